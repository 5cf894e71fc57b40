# A PyTorch twin of the U-Net (the same layers, widths, GroupNorm and embedding), for side-by-side
# timings with rivers-bench and for loading `rivers export` files (docs/python.md): rivers itself
# runs no Python. In a virtual environment with PyTorch for the CPU:
#   python pytorch_twin.py train  200 600 8 3 cl   # 3 training steps (forward, backward, AdamW), batch 8
#   python pytorch_twin.py sample 200 600 1 3 cl   # 3 sampling steps (a forward pass without gradients)
#   python pytorch_twin.py train  64 192 8 3 cl --bf16  # the same under torch.autocast("cpu", bfloat16)
# Arguments: mode, height, width, batch, steps, then any of "cl" (or "--cl") for channels-last
# tensors (faster with oneDNN) and "bf16" (or "--bf16") for bfloat16 autocast (what a CPU user
# would add with one line). To hold PyTorch to AVX2 as rivers' RIVERS_ISA=avx2 is held, run it with
# ONEDNN_MAX_CPU_ISA=AVX2 ATEN_CPU_CAPABILITY=avx2 in its environment.
# It prints the median seconds per step and per image, and the peak resident memory.
# docs/load_export.py imports UNet from here: its forward pass computes what rivers' does (checked
# there against rivers-bench export-reference).
import contextlib, math, os, sys, time, resource
import torch, torch.nn as nn, torch.nn.functional as F

class Res(nn.Module):
    def __init__(s, cin, w):
        super().__init__()
        s.short = nn.Conv2d(cin, w, 1) if cin != w else None
        s.n0 = nn.GroupNorm(8, cin, eps=1e-3) if cin != w else None
        s.c1 = nn.Conv2d(cin, w, 3, padding=1); s.n1 = nn.GroupNorm(8, w, eps=1e-3)
        s.c2 = nn.Conv2d(w, w, 3, padding=1); s.n2 = nn.GroupNorm(8, w, eps=1e-3)
    def forward(s, x):
        if s.short is not None:
            r = s.short(x); x = F.silu(s.n0(x))
        else:
            r = x
        x = s.n1(F.silu(s.c1(x)))
        x = s.n2(F.silu(s.c2(x)))
        return x + r

class UNet(nn.Module):
    def __init__(s, widths=(64, 96, 128, 256), D=3, E=256):
        super().__init__()
        s.E = E
        s.stem = nn.Conv2d(3, widths[0], 1)
        ch = widths[0] + E
        s.down = nn.ModuleList(); s.downs = nn.ModuleList()
        for w in widths[:-1]:
            blocks = nn.ModuleList()
            for _ in range(D):
                blocks.append(Res(ch, w)); ch = w
            s.down.append(blocks); s.downs.append(nn.Conv2d(w, w, 3, stride=2))
        s.mid = nn.ModuleList()
        for _ in range(D):
            s.mid.append(Res(ch, widths[-1])); ch = widths[-1]
        s.up = nn.ModuleList(); s.ups = nn.ModuleList()
        for w in reversed(widths[:-1]):
            # Keras' Conv2DTranspose(3, stride 2, "same") is the transpose of the "same" stride-2
            # convolution (0 padding before, 1 after): no padding, then the last row and column
            # cut (padding=1 would shift the output by one pixel).
            s.ups.append(nn.ConvTranspose2d(ch, w, 3, stride=2)); ch = w
            blocks = nn.ModuleList()
            for _ in range(D):
                blocks.append(Res(ch + w, w))
            s.up.append(blocks)
        s.head = nn.Conv2d(widths[0], 3, 1)
        nn.init.zeros_(s.head.weight)

    def forward(s, x, v):
        N, _, H, W = x.shape
        # In float64, as rivers computes it: angles reach 2 pi 1000, where float32 loses 1e-4.
        f = torch.exp(torch.linspace(math.log(1), math.log(1000), s.E // 2, dtype=torch.float64))
        a = 2 * math.pi * f[None, :] * v.double()[:, None]
        emb = torch.cat([torch.sin(a), torch.cos(a)], 1).to(x.dtype)[:, :, None, None].expand(N, s.E, H, W)
        x = torch.cat([s.stem(x), emb], 1)
        skips = []
        for blocks, down in zip(s.down, s.downs):
            for b in blocks:
                x = b(x); skips.append(x)
            x = F.silu(down(F.pad(x, (0, 1, 0, 1))))  # TensorFlow "same" for stride 2: 0 before, 1 after
        for b in s.mid:
            x = b(x)
        for up, blocks in zip(s.ups, s.up):
            h, w = x.shape[2], x.shape[3]
            x = F.silu(up(x)[:, :, : 2 * h, : 2 * w])
            for b in blocks:
                x = b(torch.cat([x, skips.pop()], 1))
        return s.head(x)

def main():
    mode, H, W, B, steps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
    flags = {a.lstrip("-") for a in sys.argv[6:]}
    if not flags <= {"cl", "bf16"}:
        sys.exit(f"unknown flags {sorted(flags - {'cl', 'bf16'})}: use cl and bf16 (or --cl, --bf16)")
    channels_last, bf16 = "cl" in flags, "bf16" in flags
    cast = (lambda: torch.autocast("cpu", dtype=torch.bfloat16)) if bf16 else contextlib.nullcontext
    torch.set_num_threads(len(os.sched_getaffinity(0)))  # every core, as rivers-bench
    torch.manual_seed(0)
    net = UNet()
    params = sum(p.numel() for p in net.parameters())
    x = torch.rand(B, 3, H, W); v = torch.rand(B)
    if channels_last:
        net = net.to(memory_format=torch.channels_last); x = x.contiguous(memory_format=torch.channels_last)
    times = []
    if mode == "sample":
        net.eval()
        with torch.no_grad():
            for _ in range(steps + 1):
                t = time.perf_counter()
                with cast():
                    net(x, v)
                times.append(time.perf_counter() - t)
    else:
        opt = torch.optim.AdamW(net.parameters(), lr=1e-5, weight_decay=1e-6, eps=1e-7)
        for _ in range(steps + 1):
            t = time.perf_counter()
            opt.zero_grad()
            with cast():
                loss = (net(x, v) - x).abs().mean()
            loss.backward(); opt.step()
            times.append(time.perf_counter() - t)
    times = times[1:]
    med = sorted(times)[len(times) // 2]
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"pytorch {torch.__version__} {mode} {H}x{W} batch {B}{' channels_last' if channels_last else ''}{' bf16 autocast' if bf16 else ''}: params {params}, "
          f"steps {' '.join(f'{t:.3f}' for t in times)}, median {med:.3f} s, per image {med / B:.3f} s, peak RSS {rss:.0f} MiB")

# Only when run as a script: docs/load_export.py imports the network from here.
if __name__ == "__main__":
    main()
