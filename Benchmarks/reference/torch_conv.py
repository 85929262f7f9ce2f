"""Times PyTorch (CPU) on the cases the Swift `conv` benchmark asks for.

Called by Benchmarks/Sources/ConvBenchmark.swift as

    python3 torch_conv.py THREADS '[{"name": ..., "kind": "conv", "mode": "fwd", "shape": [...], ...}, ...]'

and prints one JSON object on stdout:
{"torch": version, "results": [{"name": ..., "best": s, "median": s}, ...]}  (seconds per call).

Kinds (same settings as the Swift side):
  conv       x [B, C, H, W], weight [O, C/groups, k, k], bias [O]; stride 1, padding p
  groupnorm  x [B, C, H, W], `groups` groups, affine weight and bias
  softmax    x of `shape`, softmax over the last axis
  matmul     a of `shape` [B, ., .], b of `other`; op(a) @ op(b), op = transpose of the last two
             axes where `transposeSelf` / `transposeOther` say so
Modes: "fwd" (under torch.no_grad) or "fwdbwd" (forward, then backward of a fixed random dy
into every input and parameter). Timing follows Benchmarks/Sources/Timing.swift: warm-up,
then 7 samples, each repeating the call for at least 20 ms.
"""
import json
import sys

import torch
import torch.nn.functional as F

import timing
from timing import measure


def make_case(case):
    kind, shape = case["kind"], case["shape"]
    x = torch.randn(shape)
    params = []
    if kind == "conv":
        c, o, k, g = shape[1], case["out"], case["kernel"], case["groups"]
        params = [torch.randn(o, c // g, k, k) * 0.1, torch.randn(o) * 0.1]
        f = lambda x, w, b: F.conv2d(x, w, b, padding=case["padding"], groups=g)
    elif kind == "groupnorm":
        params = [torch.ones(shape[1]), torch.zeros(shape[1])]
        f = lambda x, w, b: F.group_norm(x, case["groups"], w, b, eps=1e-5)
    elif kind == "softmax":
        f = lambda x: torch.softmax(x, dim=-1)
    elif kind == "matmul":
        params = [torch.randn(case["other"])]
        ta, tb = case["transposeSelf"], case["transposeOther"]
        f = lambda a, b: (a.transpose(-2, -1) if ta else a) @ (b.transpose(-2, -1) if tb else b)
    else:
        raise ValueError(f"unknown kind {kind}")
    if case["mode"] == "fwd":
        def body():
            with torch.no_grad():
                f(x, *params)
        return body
    leaves = [x.requires_grad_(True)] + [p.requires_grad_(True) for p in params]
    dy = torch.randn(f(*leaves).shape)

    def body():
        for t in leaves:
            t.grad = None
        f(*leaves).backward(dy)
    return body


def main():
    threads = int(sys.argv[1])
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    results = []
    for case in json.loads(sys.argv[2]):
        best, median = measure(make_case(case))
        results.append({"name": case["name"], "best": best, "median": median})
    print(json.dumps({"torch": timing.torch_build(), "results": results}))


if __name__ == "__main__":
    main()
