"""Writes adam_fixture.json: torch.optim.Adam / AdamW trajectories for OptimizerTests.swift.

Run from this folder:  python3 make_adam_fixture.py   (torch 2.x, CPU)

Two parameters (a [3, 4] matrix and a [3] vector) start from fixed random values. At each of
5 steps a fixed random gradient is written into .grad and optimizer.step() is called; the
parameters after every step are recorded. The gradients are recorded too, so the Swift test
replays exactly the same updates without Python. amsgrad and maximize are off.
"""
import json

import torch

torch.manual_seed(0)
STEPS = 5
shapes = [[3, 4], [3]]
initial = [torch.randn(s) for s in shapes]
grads = [[torch.randn(s) * (1 + step) for s in shapes] for step in range(STEPS)]

cases = [
    ("adam", torch.optim.Adam, dict(lr=1e-2, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0)),
    ("adam_l2", torch.optim.Adam, dict(lr=1e-2, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.1)),
    ("adam_betas", torch.optim.Adam, dict(lr=3e-2, betas=(0.5, 0.9), eps=1e-3, weight_decay=0.0)),
    ("adamw", torch.optim.AdamW, dict(lr=1e-2, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.1)),
]

out = {"torch_version": torch.__version__, "shapes": shapes,
       "initial": [t.flatten().tolist() for t in initial],
       "grads": [[g.flatten().tolist() for g in step] for step in grads],
       "cases": []}
for name, cls, options in cases:
    params = [t.clone().requires_grad_(True) for t in initial]
    opt = cls(params, amsgrad=False, **options)
    after = []
    for step in range(STEPS):
        for p, g in zip(params, grads[step]):
            p.grad = g.clone()
        opt.step()
        after.append([p.detach().flatten().tolist() for p in params])
    out["cases"].append({"name": name, "optimizer": cls.__name__, "lr": options["lr"],
                         "betas": list(options["betas"]), "eps": options["eps"],
                         "weight_decay": options["weight_decay"], "after": after})

with open("adam_fixture.json", "w") as f:
    json.dump(out, f, indent=1)
print("wrote adam_fixture.json with", len(cases), "cases of", STEPS, "steps")
