// C edge of the JPEG codec: libjpeg's error_exit is replaced by a longjmp back into these
// functions, so every libjpeg error becomes a return code and a message, never an exit().
#ifndef RIVERS_CJPEG_SHIM_H
#define RIVERS_CJPEG_SHIM_H
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <setjmp.h>
#include <jpeglib.h>
#include <jerror.h>

typedef struct {
    struct jpeg_error_mgr pub;
    jmp_buf jump;
    char message[JMSG_LENGTH_MAX];
} rivers_jpeg_error;

static void rivers_jpeg_error_exit(j_common_ptr cinfo) {
    rivers_jpeg_error *e = (rivers_jpeg_error *)cinfo->err;
    (*cinfo->err->format_message)(cinfo, e->message);
    longjmp(e->jump, 1);
}

// Warnings are ignored except a premature end of data: libjpeg would fill the rest of a
// truncated file with grey and carry on, and a truncated image must be reported instead.
static void rivers_jpeg_emit_message(j_common_ptr cinfo, int level) {
    if (level < 0 && cinfo->err->msg_code == JWRN_JPEG_EOF) rivers_jpeg_error_exit(cinfo);
}

static void rivers_jpeg_copy_message(char *err, int errlen, const char *message) {
    if (errlen > 0) snprintf(err, (size_t)errlen, "%s", message);
}

/// Decodes a JPEG held in memory to interleaved 8-bit RGB (grey, YCbCr, CMYK and YCCK inputs).
/// On success *out is a malloc'ed width*height*3 buffer the caller frees; returns 1.
/// On failure returns 0 with a message in err.
static int rivers_jpeg_decode(const unsigned char *data, unsigned long size, int max_pixels,
                              unsigned char **out, int *width, int *height,
                              char *err, int errlen) {
    struct jpeg_decompress_struct cinfo;
    rivers_jpeg_error jerr;
    unsigned char *volatile pixels = NULL;
    unsigned char *volatile row = NULL;
    *out = NULL;
    cinfo.err = jpeg_std_error(&jerr.pub);
    jerr.pub.error_exit = rivers_jpeg_error_exit;
    jerr.pub.emit_message = rivers_jpeg_emit_message;
    jerr.message[0] = 0;
    if (setjmp(jerr.jump)) {
        rivers_jpeg_copy_message(err, errlen, jerr.message);
        jpeg_destroy_decompress(&cinfo);
        free(pixels);
        free(row);
        return 0;
    }
    jpeg_create_decompress(&cinfo);
    jpeg_mem_src(&cinfo, data, size);
    jpeg_read_header(&cinfo, TRUE);
    int cmyk = cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK;
    cinfo.out_color_space = cmyk ? JCS_CMYK : JCS_RGB;
    if ((long)cinfo.image_width * (long)cinfo.image_height > (long)max_pixels) {
        rivers_jpeg_copy_message(err, errlen, "image is larger than the supported maximum");
        jpeg_destroy_decompress(&cinfo);
        return 0;
    }
    jpeg_start_decompress(&cinfo);
    int w = (int)cinfo.output_width, h = (int)cinfo.output_height;
    int comps = cinfo.output_components;
    pixels = (unsigned char *)malloc((size_t)w * (size_t)h * 3);
    row = (unsigned char *)malloc((size_t)w * (size_t)comps);
    if (!pixels || !row) {
        rivers_jpeg_copy_message(err, errlen, "out of memory");
        jpeg_destroy_decompress(&cinfo);
        free(pixels);
        free(row);
        return 0;
    }
    // Adobe writes CMYK inverted (the usual case); plain CMYK is stored as ink amounts.
    int inverted = cinfo.saw_Adobe_marker;
    while (cinfo.output_scanline < cinfo.output_height) {
        unsigned char *dst = pixels + (size_t)cinfo.output_scanline * (size_t)w * 3;
        JSAMPROW rows[1] = { cmyk ? row : dst };
        jpeg_read_scanlines(&cinfo, rows, 1);
        if (cmyk) {
            for (int x = 0; x < w; x++) {
                int c = row[4 * x], m = row[4 * x + 1], y = row[4 * x + 2], k = row[4 * x + 3];
                if (!inverted) { c = 255 - c; m = 255 - m; y = 255 - y; k = 255 - k; }
                dst[3 * x] = (unsigned char)((c * k + 127) / 255);
                dst[3 * x + 1] = (unsigned char)((m * k + 127) / 255);
                dst[3 * x + 2] = (unsigned char)((y * k + 127) / 255);
            }
        }
    }
    jpeg_finish_decompress(&cinfo);
    jpeg_destroy_decompress(&cinfo);
    free(row);
    *out = pixels;
    *width = w;
    *height = h;
    return 1;
}

/// Encodes interleaved 8-bit samples as JPEG: components 3 = RGB (4:2:0, like OpenCV's
/// imwrite), 1 = greyscale, 4 = CMYK (Adobe-inverted, as Photoshop writes it);
/// progressive != 0 writes a progressive scan script.
/// On success *out is a malloc'ed buffer of *outsize bytes the caller frees; returns 1.
static int rivers_jpeg_encode(const unsigned char *rgb, int width, int height, int components,
                              int quality, int progressive,
                              unsigned char **out, unsigned long *outsize,
                              char *err, int errlen) {
    struct jpeg_compress_struct cinfo;
    rivers_jpeg_error jerr;
    *out = NULL;
    *outsize = 0;
    cinfo.err = jpeg_std_error(&jerr.pub);
    jerr.pub.error_exit = rivers_jpeg_error_exit;
    jerr.pub.emit_message = rivers_jpeg_emit_message;
    if (setjmp(jerr.jump)) {
        rivers_jpeg_copy_message(err, errlen, jerr.message);
        jpeg_destroy_compress(&cinfo);
        free(*out);
        *out = NULL;
        return 0;
    }
    jpeg_create_compress(&cinfo);
    jpeg_mem_dest(&cinfo, out, outsize);
    cinfo.image_width = (JDIMENSION)width;
    cinfo.image_height = (JDIMENSION)height;
    cinfo.input_components = components;
    cinfo.in_color_space = components == 1 ? JCS_GRAYSCALE : components == 4 ? JCS_CMYK : JCS_RGB;
    jpeg_set_defaults(&cinfo);
    jpeg_set_quality(&cinfo, quality, TRUE);
    if (progressive) jpeg_simple_progression(&cinfo);
    jpeg_start_compress(&cinfo, TRUE);
    while (cinfo.next_scanline < cinfo.image_height) {
        JSAMPROW rows[1] = { (JSAMPROW)(rgb + (size_t)cinfo.next_scanline * (size_t)width * (size_t)components) };
        jpeg_write_scanlines(&cinfo, rows, 1);
    }
    jpeg_finish_compress(&cinfo);
    jpeg_destroy_compress(&cinfo);
    return 1;
}

/// Frees a buffer returned by the functions above.
static void rivers_jpeg_free(unsigned char *p) { free(p); }

#endif
