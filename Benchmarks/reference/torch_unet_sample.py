#!/usr/bin/env python3
"""Sampling cost of the Annotated U-Net in PyTorch on the CPU (for `Benchmarks sample`): one
forward pass at batch 64 under torch.no_grad() (5 samples after a warm-up), and one whole reverse
process of 64 images through T = 300 steps (the post's p_sample_loop, posterior variance).

    python3 Benchmarks/reference/torch_unet_sample.py --threads 2 --batch 64 --timesteps 300

Prints one JSON line: {"torch": version, "threads": n, "forward": [seconds], "whole": seconds}.
"""
import argparse
import json
import os
import sys
import time

try:
    import torch
except ImportError:
    sys.stderr.write("torch is not installed (pip install torch)\n")
    sys.exit(3)
import torch.nn.functional as F

parser = argparse.ArgumentParser()
parser.add_argument("--threads", type=int, default=2)
parser.add_argument("--batch", type=int, default=64)
parser.add_argument("--timesteps", type=int, default=300)
args = parser.parse_args()

torch.set_num_threads(args.threads)
from unet_reference import reference  # noqa: E402  (the model of make_unet_fixture.py)
import timing  # noqa: E402

torch.manual_seed(0)
model = reference.fashion_unet().eval()
x = torch.randn(args.batch, 1, 28, 28)
t = torch.randint(0, args.timesteps, (args.batch,)).float()
with torch.no_grad():
    model(x, t)
    forward = []
    for _ in range(5):
        t0 = time.perf_counter()
        model(x, t)
        forward.append(time.perf_counter() - t0)

    T = args.timesteps
    betas = torch.linspace(1e-4, 0.02, T)
    alphas = 1.0 - betas
    ac = torch.cumprod(alphas, 0)
    ac_prev = F.pad(ac[:-1], (1, 0), value=1.0)
    posterior_variance = betas * (1.0 - ac_prev) / (1.0 - ac)
    t0 = time.perf_counter()
    img = torch.randn(args.batch, 1, 28, 28)
    for i in reversed(range(T)):
        tt = torch.full((args.batch,), i, dtype=torch.float32)
        mean = (1 / alphas[i].sqrt()) * (img - betas[i] * model(img, tt) / (1 - ac[i]).sqrt())
        img = mean if i == 0 else mean + posterior_variance[i].sqrt() * torch.randn_like(img)
    whole = time.perf_counter() - t0
print(json.dumps({"torch": timing.torch_build(), "threads": torch.get_num_threads(), "forward": forward, "whole": whole}))
