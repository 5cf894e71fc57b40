#!/usr/bin/env python3
"""Load a `rivers export` file into the PyTorch twin of rivers' U-Net and check one forward pass.

    python docs/load_export.py EXPORT.safetensors [REFERENCE.safetensors] [--tolerance X]

REFERENCE is rivers' own forward pass on a fixed input, written by

    rivers-bench export-reference --export EXPORT.safetensors --out REFERENCE.safetensors

When it is not given, EXPORT's `<stem>.reference.safetensors` is used if present; otherwise the
script runs rivers-bench itself (RIVERS_BENCH, else .build/release/rivers-bench of this
repository, else rivers-bench on PATH) into a temporary folder. It prints the largest absolute
difference between the twin's output and rivers', and exits with status 1 when it exceeds the
tolerance (default 1e-3 of the largest output value, plus 1e-6).

Needs PyTorch only: the safetensors reader below uses json and struct (no numpy, no
safetensors package). `load_export` and `read_safetensors` can be imported from here.
"""
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "Sources" / "rivers-bench"))
import pytorch_twin  # noqa: E402  (the twin of the network: Sources/rivers-bench/pytorch_twin.py)


def read_safetensors(path):
    """A safetensors file's float32 tensors (name -> torch tensor) and its metadata (name -> str)."""
    data = Path(path).read_bytes()
    (length,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + length])
    metadata = header.pop("__metadata__", {})
    start = 8 + length
    tensors = {}
    for name, info in header.items():
        if info["dtype"] != "F32":
            raise ValueError(f"{path}: tensor {name} is {info['dtype']}, not F32")
        begin, end = info["data_offsets"]
        raw = bytearray(data[start + begin : start + end])  # a writable copy for torch.frombuffer
        values = torch.frombuffer(raw, dtype=torch.float32) if raw else torch.zeros(0)
        tensors[name] = values.reshape(info["shape"])
    return tensors, metadata


# rivers' parameter names (UNet.layout) -> the twin's module names.
BLOCK_PARTS = {"shortcut": "short", "norm0": "n0", "conv1": "c1", "norm1": "n1", "conv2": "c2", "norm2": "n2"}
PARAMS = {"weight": "weight", "bias": "bias", "gamma": "weight", "beta": "bias"}


def twin_name(name, levels):
    """`down.0.1.conv2.weight` -> `down.0.1.c2.weight`; the up path's levels are listed in
    reverse in the twin (`up.<level>` -> `up.<levels - 2 - level>`)."""
    p = name.split(".")
    if p[0] in ("stem", "head"):
        return name
    if p[0] == "bottleneck":
        return f"mid.{p[1]}.{BLOCK_PARTS[p[2]]}.{PARAMS[p[3]]}"
    if p[0] == "down":
        if p[2] == "downsample":
            return f"downs.{p[1]}.{p[3]}"
        return f"down.{p[1]}.{p[2]}.{BLOCK_PARTS[p[3]]}.{PARAMS[p[4]]}"
    if p[0] == "up":
        k = levels - 2 - int(p[1])
        if p[2] == "upsample":
            return f"ups.{k}.{p[3]}"
        return f"up.{k}.{p[2]}.{BLOCK_PARTS[p[3]]}.{PARAMS[p[4]]}"
    raise KeyError(f"no place in the twin for tensor {name}")


def load_export(path):
    """The twin with an export's EMA weights (eval mode), the normalizer {"mean", "variance"}
    (tensors [3]: images in [0, 1] are normalized as (x - mean) / sqrt(variance) before the
    network), the run's settings (the train section of its config.json) and the metadata."""
    tensors, meta = read_safetensors(path)
    if meta.get("format") != "rivers-export-1":
        raise ValueError(f"{path}: not a rivers export (format {meta.get('format')})")
    config = json.loads(meta["config"])
    if config["attention_in_bottleneck"] or config["attention_in_up_down_sample"]:
        raise ValueError(f"{path}: a network with attention layers; the twin has none")
    widths = tuple(config["widths"])
    net = pytorch_twin.UNet(widths, config["block_depth"], config["embedding_dims"])
    state = {}
    for name, t in tensors.items():
        if name.startswith("normalizer/"):
            continue
        # Keras kernels [kh, kw, in, out] (transposed: [kh, kw, out, in]) -> torch [out, in, kh, kw]
        # (transposed: [in, out, kh, kw]): the same permutation for both.
        state[twin_name(name, len(widths))] = t.permute(3, 2, 0, 1).contiguous() if t.dim() == 4 else t
    net.load_state_dict(state, strict=True)  # every tensor has its place, and every place a tensor
    net.eval()
    normalizer = {"mean": tensors["normalizer/mean"], "variance": tensors["normalizer/variance"]}
    return net, normalizer, config, meta


def rivers_bench():
    candidates = [os.environ.get("RIVERS_BENCH"), str(REPO / ".build" / "release" / "rivers-bench"), shutil.which("rivers-bench")]
    for c in candidates:
        if c and os.access(c, os.X_OK):
            return c
    sys.exit("rivers-bench not found: build it (swift build -c release), set RIVERS_BENCH, or give a reference file")


def main(argv):
    args, tolerance = [], None
    it = iter(argv)
    for a in it:
        if a == "--tolerance":
            tolerance = float(next(it))
        else:
            args.append(a)
    if not 1 <= len(args) <= 2:
        sys.exit(__doc__)
    export = Path(args[0])
    net, normalizer, config, meta = load_export(export)
    print(
        f"{export}: label {meta['label']}, epoch {meta['epoch']}, step {meta['step']}, "
        f"{config['image_size'][0]}x{config['image_size'][1]}, widths {config['widths']}, "
        f"{sum(p.numel() for p in net.parameters()):,} parameters; normalizer mean {normalizer['mean'].tolist()}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        reference = Path(args[1]) if len(args) == 2 else export.with_name(export.stem + ".reference.safetensors")
        if len(args) == 1 and not reference.exists():
            reference = Path(tmp) / "reference.safetensors"
            subprocess.run([rivers_bench(), "export-reference", "--export", str(export), "--out", str(reference)], check=True)
        ref, _ = read_safetensors(reference)
    x = ref["input"].permute(0, 3, 1, 2)  # rivers is NHWC, the twin NCHW
    with torch.no_grad():
        y = net(x, ref["variances"]).permute(0, 2, 3, 1)
    difference = (y - ref["output"]).abs().max().item()
    scale = ref["output"].abs().max().item()
    limit = tolerance if tolerance is not None else 1e-3 * scale + 1e-6
    ok = difference <= limit
    print(
        f"forward pass of {x.shape[0]} images at variances {[round(v, 3) for v in ref['variances'].tolist()]}: "
        f"max abs difference {difference:.3g} (outputs up to {scale:.3g}; tolerance {limit:.3g}): {'ok' if ok else 'TOO LARGE'}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
