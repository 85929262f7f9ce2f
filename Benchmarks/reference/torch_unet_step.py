#!/usr/bin/env python3
"""One training step of a U-Net (Fashion-MNIST configuration) in PyTorch on the CPU.

Called by `swift run -c release Benchmarks unet` (the Annotated U-Net) and `... unets` (each of
the three): the same model (the reference of Tests/DiffusionTests/Fixtures/make_unet_fixture.py,
or of make_seed_unets_fixture.py for --model mindspore / tworesunet), the same step (forward,
MSE loss on the noise, backward, Adam lr 1e-3), batch 128 of 28x28, timed in the same benchmark run.

    python3 Benchmarks/reference/torch_unet_step.py --threads 2 --batch 128 --steps 3 [--model annotated]

Prints one JSON line: {"torch": version, "threads": n, "seconds": [per-step times]}.
Exit status 3 (with a message on stderr) when torch is missing.
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

parser = argparse.ArgumentParser()
parser.add_argument("--threads", type=int, default=2)
parser.add_argument("--batch", type=int, default=128)
parser.add_argument("--steps", type=int, default=3)
parser.add_argument("--model", default="annotated", choices=["annotated", "mindspore", "tworesunet"])
args = parser.parse_args()

torch.set_num_threads(args.threads)
from unet_reference import seeds  # noqa: E402  (the models of the fixture scripts)
import timing  # noqa: E402

torch.manual_seed(0)
model = seeds.fashion_model(args.model)
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
x = torch.randn(args.batch, 1, 28, 28)
noise = torch.randn(args.batch, 1, 28, 28)
t = torch.randint(0, 300, (args.batch,)).float()


def step():
    optimizer.zero_grad(set_to_none=True)
    loss = torch.nn.functional.mse_loss(model(x, t), noise)
    loss.backward()
    optimizer.step()


step()  # warm-up
times = []
for _ in range(args.steps):
    t0 = time.perf_counter()
    step()
    times.append(time.perf_counter() - t0)
print(json.dumps({"torch": timing.torch_build(), "threads": torch.get_num_threads(), "seconds": times}))
