#!/usr/bin/env python3
"""The Annotated Diffusion Model's Fashion-MNIST training, in PyTorch on the CPU: the reference
that Chapter 6's `--recipe tutorial` is checked against.

The post's code, with its own choices: Unet(dim=28, dim_mults=(1, 2, 4), channels=1) (the
reference model of Tests/DiffusionTests/Fixtures/make_unet_fixture.py, equal to ours parameter
for parameter), T = 300 linear betas 1e-4 ... 0.02, Huber loss on the noise, Adam lr 1e-3,
batch 128 with RandomHorizontalFlip, images scaled to [-1, 1]; sampling by Algorithm 2 with the
posterior variance. After training it samples N images and writes them as safetensors
([N, 1, 28, 28] in [-1, 1]), which Chapter 6 evaluates with the same classifier as its own:

    python3 Benchmarks/reference/torch_train_fashion.py --epochs 1 --samples 500 --seed 0 \
        --output /tmp/torch-tutorial-seed0.safetensors
    swift run -c release Chapter06-FashionMNIST --evaluate /tmp/torch-tutorial-seed0.safetensors

or keep the weights and sample them with Chapter 6's own sampler (the same x_T as a Swift run):

    python3 Benchmarks/reference/torch_train_fashion.py --epochs 1 --samples 0 --seed 0 \
        --weights /tmp/torch-tutorial-seed0-unet.safetensors
    swift run -c release Chapter06-FashionMNIST --recipe tutorial --sample-only \
        --checkpoint /tmp/torch-tutorial-seed0-unet.safetensors --samples 256 --output /tmp/torch-s0

About 2.5-4 s per step on 2 cores of a Zen 4 (469 steps an epoch), plus ~1 min per 100 samples.
"""
import argparse
import gzip
import json
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

parser = argparse.ArgumentParser()
parser.add_argument("--epochs", type=int, default=1)
parser.add_argument("--samples", type=int, default=500)
parser.add_argument("--seed", type=int, default=0)
parser.add_argument("--threads", type=int, default=2)
parser.add_argument("--limit", type=int, default=None, help="first N training images only")
parser.add_argument("--data", default=os.environ.get("FASHION_MNIST_DIR", "/usr/share/datasets/fashion-mnist"))
parser.add_argument("--output", help="safetensors file for the samples")
parser.add_argument("--weights", help="also save the trained state_dict here (safetensors, PyTorch's names), "
                    "for Chapter 6's --sample-only --checkpoint")
args = parser.parse_args()
if args.samples > 0 and not args.output:
    parser.error("--output is required unless --samples 0")

torch.set_num_threads(args.threads)
torch.manual_seed(args.seed)
from unet_reference import reference  # noqa: E402  (the model of make_unet_fixture.py)

# Data: the gzipped IDX file, scaled to [-1, 1] like ToTensor() then t * 2 - 1.
with gzip.open(os.path.join(args.data, "train-images-idx3-ubyte.gz")) as f:
    images = np.frombuffer(f.read(), dtype=np.uint8, offset=16).reshape(-1, 1, 28, 28)
if args.limit:
    images = images[: args.limit]
data = torch.from_numpy(images.astype(np.float32) / 127.5 - 1)

# The post's schedule and helpers.
T = 300
betas = torch.linspace(1e-4, 0.02, T)
alphas = 1.0 - betas
alphas_cumprod = torch.cumprod(alphas, dim=0)
alphas_cumprod_prev = F.pad(alphas_cumprod[:-1], (1, 0), value=1.0)
sqrt_recip_alphas = torch.sqrt(1.0 / alphas)
sqrt_alphas_cumprod = torch.sqrt(alphas_cumprod)
sqrt_one_minus_alphas_cumprod = torch.sqrt(1.0 - alphas_cumprod)
posterior_variance = betas * (1.0 - alphas_cumprod_prev) / (1.0 - alphas_cumprod)


def extract(a, t, x_shape):
    out = a.gather(-1, t.cpu())
    return out.reshape(t.shape[0], *((1,) * (len(x_shape) - 1)))


def p_losses(model, x_start, t):
    noise = torch.randn_like(x_start)
    x_noisy = extract(sqrt_alphas_cumprod, t, x_start.shape) * x_start \
        + extract(sqrt_one_minus_alphas_cumprod, t, x_start.shape) * noise
    return F.smooth_l1_loss(noise, model(x_noisy, t))


@torch.no_grad()
def p_sample(model, x, t, t_index):
    betas_t = extract(betas, t, x.shape)
    model_mean = extract(sqrt_recip_alphas, t, x.shape) * (
        x - betas_t * model(x, t) / extract(sqrt_one_minus_alphas_cumprod, t, x.shape))
    if t_index == 0:
        return model_mean
    return model_mean + torch.sqrt(extract(posterior_variance, t, x.shape)) * torch.randn_like(x)


model = reference.fashion_unet()
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
batch = 128
steps_per_epoch = (len(data) + batch - 1) // batch
start = time.time()
step = 0
for epoch in range(args.epochs):
    order = torch.randperm(len(data))
    for i in range(steps_per_epoch):
        x = data[order[i * batch:(i + 1) * batch]]
        flip = torch.rand(x.shape[0]) < 0.5
        x = torch.where(flip[:, None, None, None], x.flip(-1), x)
        t = torch.randint(0, T, (x.shape[0],)).long()
        optimizer.zero_grad()
        loss = p_losses(model, x, t)
        loss.backward()
        optimizer.step()
        step += 1
        if step % 50 == 0 or step == steps_per_epoch * args.epochs:
            elapsed = time.time() - start
            print(f"step {step}/{steps_per_epoch * args.epochs} loss {loss.item():.4f} "
                  f"{elapsed / step:.2f} s/step", flush=True)
train_seconds = time.time() - start
if args.weights:
    reference.save_safetensors({k: v.detach().contiguous() for k, v in model.state_dict().items()}, args.weights,
                               metadata={"source": "torch_train_fashion.py", "epochs": str(args.epochs),
                                         "seed": str(args.seed), "steps": str(step)})

model.eval()
start = time.time()
samples = []
for s in range(0, args.samples, 128):
    n = min(128, args.samples - s)
    x = torch.randn(n, 1, 28, 28)
    for i in reversed(range(T)):
        x = p_sample(model, x, torch.full((n,), i, dtype=torch.long), i)
    samples.append(x)
sample_seconds = time.time() - start
if samples:
    reference.save_safetensors({"samples": torch.cat(samples).contiguous()}, args.output,
                               metadata={"source": "torch_train_fashion.py", "epochs": str(args.epochs),
                                         "seed": str(args.seed), "steps": str(step)})
print(json.dumps({"torch": torch.__version__, "steps": step, "train_seconds": train_seconds,
                  "sample_seconds": sample_seconds, "samples": args.samples, "output": args.output}))
