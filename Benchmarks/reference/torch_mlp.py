"""Times the MLP denoiser of Chapter 4 in PyTorch (CPU), for Benchmarks/Sources/MLPBenchmark.swift.

    python3 torch_mlp.py THREADS TIMESTEPS SAMPLES

Prints one JSON object: {"torch": version, "train_step": {"best": s, "median": s},
"sample": {"best": s, "median": s}} (seconds per call).

The training step is the Swift one: a batch of 32 points, t ~ U{0..T-1}, x_t by q_sample,
the 2D tutorial's MLP (Dense 128 on x, concatenated with the 128-d sinusoidal embedding
looked up from a precomputed table, ReLU 128-64-32-16, Dense 2), MSE against the noise,
backward, Adam (lr 1e-3). Sampling is Algorithm 2 for SAMPLES points through all T steps
under no_grad, layer by layer. Timing follows Benchmarks/Sources/Timing.swift: warm-up,
then 7 samples, each repeating the body for at least 20 ms.
"""
import json
import math
import sys

import torch
from torch import nn

import timing
from timing import measure


def timestep_embedding(t, dim=128):
    half = dim // 2
    freqs = torch.exp(torch.arange(half, dtype=torch.float32) * -(math.log(10000.0) / (half - 1)))
    angles = t.float()[:, None] * freqs[None, :]
    return torch.cat([angles.sin(), angles.cos()], dim=1)


class MLPDenoiser(nn.Module):
    def __init__(self, timesteps):
        super().__init__()
        self.input_projection = nn.Linear(2, 128)
        self.hidden = nn.ModuleList([nn.Linear(256, 128), nn.Linear(128, 64), nn.Linear(64, 32), nn.Linear(32, 16)])
        self.output = nn.Linear(16, 2)
        self.register_buffer("table", timestep_embedding(torch.arange(timesteps)))

    def forward(self, x, t):
        h = torch.cat([self.table[t], self.input_projection(x)], dim=1)
        for layer in self.hidden:
            h = torch.relu(layer(h))
        return self.output(h)


def main():
    threads, T, n_samples = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    betas = torch.linspace(1e-4, 0.02, T, dtype=torch.float64)
    alphas = 1 - betas
    abar = torch.cumprod(alphas, 0)
    abar_prev = torch.cat([torch.ones(1, dtype=torch.float64), abar[:-1]])
    sqrt_abar, sqrt_1m_abar = abar.sqrt().float(), (1 - abar).sqrt().float()
    recip_sqrt_alpha = (1 / alphas.sqrt()).float()
    eps_coef = (betas / (1 - abar).sqrt()).float()
    sigma = (betas * (1 - abar_prev) / (1 - abar)).sqrt().float()

    data = torch.randn(8000, 2) * 0.1 + 4 * torch.tensor([[0.0, 1.0]])
    model = MLPDenoiser(T)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)

    def train_step():
        idx = torch.randint(0, data.shape[0], (32,))
        x0 = data[idx]
        t = torch.randint(0, T, (32,))
        noise = torch.randn(32, 2)
        xt = sqrt_abar[t, None] * x0 + sqrt_1m_abar[t, None] * noise
        loss = torch.nn.functional.mse_loss(model(xt, t), noise)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    @torch.no_grad()
    def sample():
        x = torch.randn(n_samples, 2)
        for i in reversed(range(T)):
            t = torch.full((n_samples,), i, dtype=torch.long)
            eps = model(x, t)
            x = recip_sqrt_alpha[i] * (x - eps_coef[i] * eps)
            if i > 0:
                x = x + sigma[i] * torch.randn_like(x)
        return x

    def as_dict(best_median):
        return {"best": best_median[0], "median": best_median[1]}
    result = {"torch": timing.torch_build(), "train_step": as_dict(measure(train_step)),
              "sample": as_dict(measure(sample, warmup=1, samples=3, min_sample_seconds=0))}
    print(json.dumps(result))


if __name__ == "__main__":
    main()
