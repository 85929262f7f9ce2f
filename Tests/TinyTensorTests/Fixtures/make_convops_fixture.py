"""Writes the PyTorch reference values for the convolution-family ops (ConvOpsTests.swift).

    python3 Tests/TinyTensorTests/Fixtures/make_convops_fixture.py

Output, next to this script:
  convops.json  an index: for every case, the op, its settings, and for every tensor its
                shape and offset (in floats) into convops.bin
  convops.bin   all tensors as little-endian float32, one after another

Each case holds the inputs, the output, a random output gradient `dy`, and the gradients
of sum(output * dy) with respect to every input (`grad_<name>`), computed by autograd in
float64 and stored as float32, so the fixture is the exact answer to float32 rounding.
"""
import json
import os

import torch
import torch.nn.functional as F

torch.manual_seed(0)
here = os.path.dirname(os.path.abspath(__file__))
blob = bytearray()
cases = []


def tensor_entry(t):
    global blob
    t = t.detach().to(torch.float32).contiguous()
    entry = {"shape": list(t.shape), "offset": len(blob) // 4}
    blob += t.numpy().astype("<f4").tobytes()
    return entry


def add_case(name, op, params, inputs, fn):
    """inputs: dict name -> float64 tensor (requires grad); fn(**inputs) -> output."""
    leaves = {k: v.clone().double().requires_grad_(True) for k, v in inputs.items()}
    out = fn(**leaves)
    dy = torch.randn(out.shape, dtype=torch.float64)
    (out * dy).sum().backward()
    tensors = {k: tensor_entry(v) for k, v in leaves.items()}
    tensors["out"] = tensor_entry(out)
    tensors["dy"] = tensor_entry(dy)
    for k, v in leaves.items():
        tensors["grad_" + k] = tensor_entry(v.grad)
    cases.append({"name": name, "op": op, "params": params, "tensors": tensors})


def randn(*shape, scale=1.0, offset=0.0):
    # Round through float32 so the Swift side sees exactly the same inputs.
    return (torch.randn(*shape) * scale + offset).float().double()


def conv_case(name, x_shape, w_shape, stride=1, padding=0, groups=1, bias=True):
    inputs = {"x": randn(*x_shape), "weight": randn(*w_shape, scale=0.3)}
    if bias:
        inputs["bias"] = randn(w_shape[0], scale=0.3)
    params = {"stride": stride, "padding": padding, "groups": groups}
    add_case(name, "conv2d", params, inputs,
             lambda x, weight, bias=None: F.conv2d(x, weight, bias, stride=stride, padding=padding, groups=groups))


def conv_transpose_case(name, x_shape, w_shape, stride, padding, output_padding, bias=True):
    inputs = {"x": randn(*x_shape), "weight": randn(*w_shape, scale=0.3)}
    if bias:
        inputs["bias"] = randn(w_shape[1], scale=0.3)
    params = {"stride": stride, "padding": padding, "outputPadding": output_padding}
    add_case(name, "convTranspose2d", params, inputs,
             lambda x, weight, bias=None: F.conv_transpose2d(x, weight, bias, stride=stride, padding=padding,
                                                             output_padding=output_padding))


conv_case("conv 3x3 pad 1", [2, 3, 7, 6], [4, 3, 3, 3], padding=1)
conv_case("conv 3x3 stride 2 pad 1", [2, 4, 9, 8], [6, 4, 3, 3], stride=2, padding=1)
conv_case("conv 4x4 stride 2 pad 1", [2, 3, 8, 8], [5, 3, 4, 4], stride=2, padding=1)
conv_case("conv groups 2", [2, 6, 6, 5], [4, 3, 3, 3], groups=2)
conv_case("conv depthwise 7x7 pad 3", [2, 5, 9, 9], [5, 1, 7, 7], padding=3, groups=5)
conv_case("conv depthwise 3x3 wide", [1, 3, 5, 21], [3, 1, 3, 3], padding=1, groups=3)
conv_case("conv 1x1 no bias", [3, 8, 5, 5], [6, 8, 1, 1], bias=False)
conv_transpose_case("convT 4x4 stride 2 pad 1", [2, 6, 5, 5], [6, 4, 4, 4], 2, 1, 0)
conv_transpose_case("convT 3x3 stride 2 output padding 1", [2, 3, 4, 3], [3, 2, 3, 3], 2, 1, 1)
conv_transpose_case("convT 3x3 stride 1 no bias", [1, 4, 5, 5], [4, 3, 3, 3], 1, 1, 0, bias=False)

for name, shape, groups, scale, offset in [
    ("groupnorm 1 group", [3, 6, 4, 5], 1, 1.0, 0.0),
    ("groupnorm 3 groups", [3, 6, 4, 5], 3, 1.0, 0.0),
    ("groupnorm 4 groups offset", [2, 8, 7, 7], 4, 3.0, 5.0),
]:
    inputs = {"x": randn(*shape, scale=scale, offset=offset),
              "weight": randn(shape[1], scale=0.5, offset=1.0), "bias": randn(shape[1], scale=0.5)}
    add_case(name, "groupNorm", {"groups": groups}, inputs,
             lambda x, weight, bias, groups=groups: F.group_norm(x, groups, weight, bias, eps=1e-5))

add_case("softmax last axis", "softmax", {"axis": -1}, {"x": randn(3, 5, 7, scale=3.0)},
         lambda x: torch.softmax(x, dim=-1))
add_case("softmax middle axis", "softmax", {"axis": 1}, {"x": randn(3, 5, 7, scale=3.0)},
         lambda x: torch.softmax(x, dim=1))
add_case("log softmax last axis", "logSoftmax", {"axis": -1}, {"x": randn(4, 9, scale=5.0)},
         lambda x: torch.log_softmax(x, dim=-1))
add_case("upsample nearest 2", "upsampleNearest", {"scale": 2}, {"x": randn(2, 3, 3, 4)},
         lambda x: F.interpolate(x, scale_factor=2, mode="nearest"))
add_case("pixel unshuffle 2", "pixelUnshuffle", {"r": 2}, {"x": randn(2, 3, 4, 6)},
         lambda x: F.pixel_unshuffle(x, 2))

with open(os.path.join(here, "convops.bin.tmp"), "wb") as f:
    f.write(bytes(blob))
os.replace(os.path.join(here, "convops.bin.tmp"), os.path.join(here, "convops.bin"))
with open(os.path.join(here, "convops.json.tmp"), "w") as f:
    json.dump({"torch": torch.__version__, "cases": cases}, f, indent=1)
os.replace(os.path.join(here, "convops.json.tmp"), os.path.join(here, "convops.json"))
print(f"wrote {len(cases)} cases, {len(blob) // 4} floats")
