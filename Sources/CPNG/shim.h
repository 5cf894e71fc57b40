// C edge of the PNG codec: libpng's simplified API reports errors through png_image.message
// (it catches its own longjmp), so nothing here can exit the process.
#ifndef RIVERS_CPNG_SHIM_H
#define RIVERS_CPNG_SHIM_H
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <png.h>

static void rivers_png_copy_message(char *err, int errlen, const char *message) {
    if (errlen > 0) snprintf(err, (size_t)errlen, "%s", message);
}

/// Decodes a PNG in memory (any bit depth, grey, grey+alpha, palette, RGB, RGBA) to
/// interleaved 8-bit RGB. Alpha is dropped, not composited, as PIL's convert("RGB") does;
/// 16-bit samples without colour-space chunks are taken as sRGB and scaled to 8 bits.
/// On success *out is a malloc'ed width*height*3 buffer the caller frees; returns 1.
static int rivers_png_decode(const unsigned char *data, size_t size, int max_pixels,
                             unsigned char **out, int *width, int *height,
                             char *err, int errlen) {
    png_image image;
    memset(&image, 0, sizeof image);
    image.version = PNG_IMAGE_VERSION;
    *out = NULL;
    if (!png_image_begin_read_from_memory(&image, data, size)) {
        rivers_png_copy_message(err, errlen, image.message);
        png_image_free(&image);
        return 0;
    }
    if ((long)image.width * (long)image.height > (long)max_pixels) {
        rivers_png_copy_message(err, errlen, "image is larger than the supported maximum");
        png_image_free(&image);
        return 0;
    }
    image.format = PNG_FORMAT_RGBA;
    image.flags |= PNG_IMAGE_FLAG_16BIT_sRGB;
    size_t w = image.width, h = image.height;
    unsigned char *rgba = (unsigned char *)malloc(w * h * 4);
    if (!rgba) {
        rivers_png_copy_message(err, errlen, "out of memory");
        png_image_free(&image);
        return 0;
    }
    if (!png_image_finish_read(&image, NULL, rgba, 0, NULL)) {
        rivers_png_copy_message(err, errlen, image.message);
        png_image_free(&image);
        free(rgba);
        return 0;
    }
    for (size_t i = 0; i < w * h; i++) {
        rgba[3 * i] = rgba[4 * i];
        rgba[3 * i + 1] = rgba[4 * i + 1];
        rgba[3 * i + 2] = rgba[4 * i + 2];
    }
    *out = rgba; /* the first w*h*3 bytes now hold RGB */
    *width = (int)w;
    *height = (int)h;
    return 1;
}

/// Encodes interleaved 8-bit RGB as PNG. On success *out is a malloc'ed buffer of *outsize
/// bytes the caller frees; returns 1.
static int rivers_png_encode(const unsigned char *rgb, int width, int height,
                             unsigned char **out, size_t *outsize, char *err, int errlen) {
    png_image image;
    memset(&image, 0, sizeof image);
    image.version = PNG_IMAGE_VERSION;
    image.width = (png_uint_32)width;
    image.height = (png_uint_32)height;
    image.format = PNG_FORMAT_RGB;
    *out = NULL;
    size_t size = 0;
    if (!png_image_write_to_memory(&image, NULL, &size, 0, rgb, 0, NULL)) {
        rivers_png_copy_message(err, errlen, image.message);
        return 0;
    }
    unsigned char *buffer = (unsigned char *)malloc(size);
    if (!buffer) {
        rivers_png_copy_message(err, errlen, "out of memory");
        return 0;
    }
    if (!png_image_write_to_memory(&image, buffer, &size, 0, rgb, 0, NULL)) {
        rivers_png_copy_message(err, errlen, image.message);
        free(buffer);
        return 0;
    }
    *out = buffer;
    *outsize = size;
    return 1;
}

static void rivers_png_free(unsigned char *p) { free(p); }

#endif
