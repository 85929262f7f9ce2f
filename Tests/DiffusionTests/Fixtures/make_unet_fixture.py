#!/usr/bin/env python3
"""The Annotated U-Net in PyTorch, and the fixtures the Swift tests compare against.

This is the reference model of Chapter05-UNet: "The Annotated Diffusion Model" (Hugging Face
blog) U-Net, block by block, with two changes:
  * the weight-standardised conv MULTIPLIES by rsqrt(var + eps) (the blog divided by it,
    fixed upstream in huggingface/blog PR #1526);
  * einops is replaced by plain reshapes/permutes (einops is not installed here).
It also holds the ConvNeXt block of the MindSpore port (and the older blog version), and the
port's transposed-conv upsampling, selectable exactly like the Swift `Unet(block:upsample:)`.

Usage (from the package root; needs python3 + torch, nothing else):

    python3 Tests/DiffusionTests/Fixtures/make_unet_fixture.py
        writes Tests/DiffusionTests/Fixtures/unet/*.safetensors and unet_fashion_names.json,
        prints the parameter count of the Fashion-MNIST configuration (2,020,257), and, when
        output/Chapter05-UNet/unet.safetensors exists (written by the Swift chapter), loads it
        with load_state_dict(strict=True) as below.

    python3 Tests/DiffusionTests/Fixtures/make_unet_fixture.py --check output/Chapter05-UNet/unet.safetensors
        loads a checkpoint written by the Swift code into the PyTorch Fashion-MNIST Unet with
        load_state_dict(strict=True) and runs one forward pass.

Fixture layout: for each case `<case>.weights.safetensors` is the module's state_dict (PyTorch
names), `<case>.io.safetensors` holds `input` (and `time`), `output`, `loss_weight` R (and `self_cond`), and the
gradients of the scalar loss L = sum(output * R): `grad.input` and `grad.<parameter name>`.
References are computed in float64 and stored as float32.

The safetensors format is written by hand (the `safetensors` package is not needed):
8-byte little-endian header length N, N bytes of JSON {name: {dtype, shape, data_offsets}},
padded with spaces to a multiple of 8, then the raw little-endian tensor bytes.
"""
import json
import math
import os
import struct
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "unet")


# ----------------------------------------------------------------------------------------------
# safetensors by hand
# ----------------------------------------------------------------------------------------------

def save_safetensors(tensors, path, metadata=None):
    """Writes {name: tensor} as float32 safetensors (names sorted, like the reference writer)."""
    header, blobs, offset = {}, [], 0
    if metadata:
        header["__metadata__"] = {k: str(v) for k, v in metadata.items()}
    for name in sorted(tensors):
        a = np.ascontiguousarray(tensors[name].detach().cpu().to(torch.float32).numpy()).astype("<f4")
        b = a.tobytes()
        header[name] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [offset, offset + len(b)]}
        blobs.append(b)
        offset += len(b)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)
    os.replace(tmp, path)


def load_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        assert info["dtype"] == "F32", f"{name}: dtype {info['dtype']}"
        s, e = info["data_offsets"]
        a = np.frombuffer(raw[8 + n + s:8 + n + e], dtype="<f4").reshape(info["shape"])
        out[name] = torch.from_numpy(a.copy())
    return out


# ----------------------------------------------------------------------------------------------
# The Annotated U-Net (blog code, einops replaced by reshapes)
# ----------------------------------------------------------------------------------------------

def exists(x):
    return x is not None


def default(val, d):
    return val if exists(val) else d


class Residual(nn.Module):
    def __init__(self, fn):
        super().__init__()
        self.fn = fn

    def forward(self, x, *args, **kwargs):
        return self.fn(x, *args, **kwargs) + x


class PixelUnshuffle2(nn.Module):
    """Rearrange('b c (h p1) (w p2) -> b (c p1 p2) h w', p1=2, p2=2)."""

    def forward(self, x):
        return F.pixel_unshuffle(x, 2)


def Upsample(dim, dim_out=None):
    return nn.Sequential(nn.Upsample(scale_factor=2, mode="nearest"),
                         nn.Conv2d(dim, default(dim_out, dim), 3, padding=1))


def UpsampleTransposed(dim, dim_out=None):
    """The MindSpore port: Conv2dTranspose(dim, dim, 4, 2, padding=1) doubles H and W."""
    return nn.ConvTranspose2d(dim, default(dim_out, dim), 4, stride=2, padding=1)


def Downsample(dim, dim_out=None):
    # No More Strided Convolutions or Pooling
    return nn.Sequential(PixelUnshuffle2(), nn.Conv2d(dim * 4, default(dim_out, dim), 1))


class SinusoidalPositionEmbeddings(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.dim = dim

    def forward(self, time):
        half_dim = self.dim // 2
        emb = math.log(10000) / (half_dim - 1)
        emb = torch.exp(torch.arange(half_dim, device=time.device, dtype=time.dtype) * -emb)
        emb = time[:, None] * emb[None, :]
        return torch.cat((emb.sin(), emb.cos()), dim=-1)


class WeightStandardizedConv2d(nn.Conv2d):
    """https://arxiv.org/abs/1903.10520 — with the corrected multiply by rsqrt."""

    def forward(self, x):
        eps = 1e-5  # the float32 value (also used for the float64 reference)
        weight = self.weight
        mean = weight.mean(dim=(1, 2, 3), keepdim=True)
        var = weight.var(dim=(1, 2, 3), unbiased=False, keepdim=True)
        normalized_weight = (weight - mean) * (var + eps).rsqrt()
        return F.conv2d(x, normalized_weight, self.bias, self.stride, self.padding, self.dilation, self.groups)


class Block(nn.Module):
    def __init__(self, dim, dim_out, groups=8):
        super().__init__()
        self.proj = WeightStandardizedConv2d(dim, dim_out, 3, padding=1)
        self.norm = nn.GroupNorm(groups, dim_out)
        self.act = nn.SiLU()

    def forward(self, x, scale_shift=None):
        x = self.proj(x)
        x = self.norm(x)
        if exists(scale_shift):
            scale, shift = scale_shift
            x = x * (scale + 1) + shift
        return self.act(x)


class ResnetBlock(nn.Module):
    def __init__(self, dim, dim_out, *, time_emb_dim=None, groups=8):
        super().__init__()
        self.mlp = nn.Sequential(nn.SiLU(), nn.Linear(time_emb_dim, dim_out * 2)) if exists(time_emb_dim) else None
        self.block1 = Block(dim, dim_out, groups=groups)
        self.block2 = Block(dim_out, dim_out, groups=groups)
        self.res_conv = nn.Conv2d(dim, dim_out, 1) if dim != dim_out else nn.Identity()

    def forward(self, x, time_emb=None):
        scale_shift = None
        if exists(self.mlp) and exists(time_emb):
            time_emb = self.mlp(time_emb)[:, :, None, None]
            scale_shift = time_emb.chunk(2, dim=1)
        h = self.block1(x, scale_shift=scale_shift)
        h = self.block2(h)
        return h + self.res_conv(x)


class ConvNextBlock(nn.Module):
    """https://arxiv.org/abs/2201.03545 — the MindSpore port's block (GELU restored)."""

    def __init__(self, dim, dim_out, *, time_emb_dim=None, mult=2, norm=True):
        super().__init__()
        self.mlp = nn.Sequential(nn.GELU(), nn.Linear(time_emb_dim, dim)) if exists(time_emb_dim) else None
        self.ds_conv = nn.Conv2d(dim, dim, 7, padding=3, groups=dim)
        self.net = nn.Sequential(
            nn.GroupNorm(1, dim) if norm else nn.Identity(),
            nn.Conv2d(dim, dim_out * mult, 3, padding=1),
            nn.GELU(),
            nn.GroupNorm(1, dim_out * mult),
            nn.Conv2d(dim_out * mult, dim_out, 3, padding=1),
        )
        self.res_conv = nn.Conv2d(dim, dim_out, 1) if dim != dim_out else nn.Identity()

    def forward(self, x, time_emb=None):
        h = self.ds_conv(x)
        if exists(self.mlp) and exists(time_emb):
            h = h + self.mlp(time_emb)[:, :, None, None]
        h = self.net(h)
        return h + self.res_conv(x)


def to_heads(t, heads):
    """'b (h c) x y -> b h c (x y)'"""
    b, hc, x, y = t.shape
    return t.reshape(b, heads, hc // heads, x * y)


class Attention(nn.Module):
    def __init__(self, dim, heads=4, dim_head=32):
        super().__init__()
        self.scale = dim_head ** -0.5
        self.heads = heads
        hidden_dim = dim_head * heads
        self.to_qkv = nn.Conv2d(dim, hidden_dim * 3, 1, bias=False)
        self.to_out = nn.Conv2d(hidden_dim, dim, 1)

    def forward(self, x):
        b, c, h, w = x.shape
        q, k, v = (to_heads(t, self.heads) for t in self.to_qkv(x).chunk(3, dim=1))
        q = q * self.scale
        sim = torch.einsum("bhdi,bhdj->bhij", q, k)
        sim = sim - sim.amax(dim=-1, keepdim=True).detach()
        attn = sim.softmax(dim=-1)
        out = torch.einsum("bhij,bhdj->bhid", attn, v)
        out = out.permute(0, 1, 3, 2).reshape(b, -1, h, w)   # 'b h (x y) d -> b (h d) x y'
        return self.to_out(out)


class LinearAttention(nn.Module):
    def __init__(self, dim, heads=4, dim_head=32):
        super().__init__()
        self.scale = dim_head ** -0.5
        self.heads = heads
        hidden_dim = dim_head * heads
        self.to_qkv = nn.Conv2d(dim, hidden_dim * 3, 1, bias=False)
        self.to_out = nn.Sequential(nn.Conv2d(hidden_dim, dim, 1), nn.GroupNorm(1, dim))

    def forward(self, x):
        b, c, h, w = x.shape
        q, k, v = (to_heads(t, self.heads) for t in self.to_qkv(x).chunk(3, dim=1))
        q = q.softmax(dim=-2)
        k = k.softmax(dim=-1)
        q = q * self.scale
        context = torch.einsum("bhdn,bhen->bhde", k, v)
        out = torch.einsum("bhde,bhdn->bhen", context, q)
        out = out.reshape(b, -1, h, w)                        # 'b h c (x y) -> b (h c) x y'
        return self.to_out(out)


class PreNorm(nn.Module):
    def __init__(self, dim, fn):
        super().__init__()
        self.fn = fn
        self.norm = nn.GroupNorm(1, dim)

    def forward(self, x):
        return self.fn(self.norm(x))


class Unet(nn.Module):
    def __init__(self, dim, init_dim=None, out_dim=None, dim_mults=(1, 2, 4, 8), channels=3,
                 self_condition=False, resnet_block_groups=4, convnext_mult=None, transposed_upsample=False):
        super().__init__()
        self.channels = channels
        self.self_condition = self_condition
        input_channels = channels * (2 if self_condition else 1)

        init_dim = default(init_dim, dim)
        self.init_conv = nn.Conv2d(input_channels, init_dim, 1, padding=0)

        dims = [init_dim, *map(lambda m: dim * m, dim_mults)]
        in_out = list(zip(dims[:-1], dims[1:]))

        if convnext_mult is None:
            def block_klass(a, b, time_emb_dim):
                return ResnetBlock(a, b, time_emb_dim=time_emb_dim, groups=resnet_block_groups)
        else:
            def block_klass(a, b, time_emb_dim):
                return ConvNextBlock(a, b, time_emb_dim=time_emb_dim, mult=convnext_mult)
        up_klass = UpsampleTransposed if transposed_upsample else Upsample

        time_dim = dim * 4
        self.time_mlp = nn.Sequential(SinusoidalPositionEmbeddings(dim), nn.Linear(dim, time_dim),
                                      nn.GELU(), nn.Linear(time_dim, time_dim))

        self.downs = nn.ModuleList([])
        self.ups = nn.ModuleList([])
        num_resolutions = len(in_out)

        for ind, (dim_in, dim_out) in enumerate(in_out):
            is_last = ind >= (num_resolutions - 1)
            self.downs.append(nn.ModuleList([
                block_klass(dim_in, dim_in, time_emb_dim=time_dim),
                block_klass(dim_in, dim_in, time_emb_dim=time_dim),
                Residual(PreNorm(dim_in, LinearAttention(dim_in))),
                Downsample(dim_in, dim_out) if not is_last else nn.Conv2d(dim_in, dim_out, 3, padding=1),
            ]))

        mid_dim = dims[-1]
        self.mid_block1 = block_klass(mid_dim, mid_dim, time_emb_dim=time_dim)
        self.mid_attn = Residual(PreNorm(mid_dim, Attention(mid_dim)))
        self.mid_block2 = block_klass(mid_dim, mid_dim, time_emb_dim=time_dim)

        for ind, (dim_in, dim_out) in enumerate(reversed(in_out)):
            is_last = ind == (len(in_out) - 1)
            self.ups.append(nn.ModuleList([
                block_klass(dim_out + dim_in, dim_out, time_emb_dim=time_dim),
                block_klass(dim_out + dim_in, dim_out, time_emb_dim=time_dim),
                Residual(PreNorm(dim_out, LinearAttention(dim_out))),
                up_klass(dim_out, dim_in) if not is_last else nn.Conv2d(dim_out, dim_in, 3, padding=1),
            ]))

        self.out_dim = default(out_dim, channels)
        self.final_res_block = block_klass(dim * 2, dim, time_emb_dim=time_dim)
        self.final_conv = nn.Conv2d(dim, self.out_dim, 1)

    def forward(self, x, time, x_self_cond=None):
        if self.self_condition:
            x_self_cond = default(x_self_cond, torch.zeros_like(x))
            x = torch.cat((x_self_cond, x), dim=1)
        x = self.init_conv(x)
        r = x.clone()
        t = self.time_mlp(time)
        h = []
        for block1, block2, attn, downsample in self.downs:
            x = block1(x, t)
            h.append(x)
            x = block2(x, t)
            x = attn(x)
            h.append(x)
            x = downsample(x)
        x = self.mid_block1(x, t)
        x = self.mid_attn(x)
        x = self.mid_block2(x, t)
        for block1, block2, attn, upsample in self.ups:
            x = torch.cat((x, h.pop()), dim=1)
            x = block1(x, t)
            x = torch.cat((x, h.pop()), dim=1)
            x = block2(x, t)
            x = attn(x)
            x = upsample(x)
        x = torch.cat((x, r), dim=1)
        x = self.final_res_block(x, t)
        return self.final_conv(x)


def fashion_unet():
    """The Annotated Diffusion Model's Fashion-MNIST configuration."""
    return Unet(dim=28, channels=1, dim_mults=(1, 2, 4))


# ----------------------------------------------------------------------------------------------
# Fixtures
# ----------------------------------------------------------------------------------------------

def perturb_norms(module, gen):
    """GroupNorm weights start at 1 and biases at 0; perturb them so the tests see their effect."""
    with torch.no_grad():
        for m in module.modules():
            if isinstance(m, nn.GroupNorm):
                m.weight.add_(0.2 * torch.randn(m.weight.shape, generator=gen, dtype=m.weight.dtype))
                m.bias.add_(0.2 * torch.randn(m.bias.shape, generator=gen, dtype=m.bias.dtype))


def write_case(name, module, inputs, gen, meta, call=None):
    """Runs module(*inputs) in float64, L = sum(out * R), and writes weights + io files."""
    perturb_norms(module, gen)
    module = module.double()
    xs = [t.double().clone().requires_grad_(i == 0) for i, t in enumerate(inputs)]
    out = call(module, *xs) if call else module(*xs)
    R = torch.randn(out.shape, generator=gen, dtype=torch.float64)
    loss = (out * R).sum()
    loss.backward()
    save_safetensors({k: v for k, v in module.state_dict().items()},
                     os.path.join(OUT, f"{name}.weights.safetensors"), metadata=meta)
    io = {"input": xs[0], "output": out, "loss_weight": R, "grad.input": xs[0].grad}
    if len(xs) > 1:
        io["time"] = xs[1]
    if len(xs) > 2:
        io["self_cond"] = xs[2]
    for pname, p in module.named_parameters():
        io["grad." + pname] = p.grad
    save_safetensors(io, os.path.join(OUT, f"{name}.io.safetensors"), metadata=meta)
    print(f"  {name:24s} in {list(xs[0].shape)} -> out {list(out.shape)}, "
          f"{sum(p.numel() for p in module.parameters())} parameters, loss {loss.item():.6f}")


def make_fixtures():
    os.makedirs(OUT, exist_ok=True)
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(1234)

    def randn(*shape):
        return torch.randn(shape, generator=gen)

    print("block fixtures:")
    write_case("resnet_block", ResnetBlock(8, 16, time_emb_dim=32, groups=4),
               [randn(2, 8, 6, 6), randn(2, 32)], gen, {"dim": 8, "dim_out": 16, "time_emb_dim": 32, "groups": 4})
    write_case("resnet_block_same", ResnetBlock(8, 8, time_emb_dim=32, groups=4),
               [randn(2, 8, 6, 6), randn(2, 32)], gen, {"dim": 8, "dim_out": 8, "time_emb_dim": 32, "groups": 4})
    write_case("convnext_block", ConvNextBlock(8, 16, time_emb_dim=32, mult=2),
               [randn(2, 8, 6, 6), randn(2, 32)], gen, {"dim": 8, "dim_out": 16, "time_emb_dim": 32, "mult": 2})
    write_case("attention", Attention(16), [randn(2, 16, 4, 4)], gen, {"dim": 16, "heads": 4, "dim_head": 32})
    write_case("linear_attention", LinearAttention(16), [randn(2, 16, 6, 6)], gen,
               {"dim": 16, "heads": 4, "dim_head": 32})
    write_case("prenorm_linear_attention", Residual(PreNorm(8, LinearAttention(8))), [randn(2, 8, 4, 4)], gen,
               {"dim": 8})
    write_case("downsample", Downsample(8, 16), [randn(2, 8, 6, 6)], gen, {"dim": 8, "dim_out": 16})
    write_case("upsample", Upsample(16, 8), [randn(2, 16, 3, 3)], gen, {"dim": 16, "dim_out": 8})
    write_case("upsample_transposed", UpsampleTransposed(16, 8), [randn(2, 16, 3, 3)], gen,
               {"dim": 16, "dim_out": 8})
    write_case("sinusoidal_embeddings", SinusoidalPositionEmbeddings(16), [torch.tensor([0.0, 1.0, 17.0, 299.0])],
               gen, {"dim": 16})

    print("whole-Unet fixtures (dim 8, dim_mults (1, 2), channels 1, batch 2, 8x8):")
    small = {"dim": 8, "dim_mults": "1,2", "channels": 1, "resnet_block_groups": 4}
    x, t = randn(2, 1, 8, 8), torch.tensor([3.0, 150.0])
    write_case("unet_small", Unet(dim=8, channels=1, dim_mults=(1, 2)), [x, t], gen, small)
    write_case("unet_small_convnext", Unet(dim=8, channels=1, dim_mults=(1, 2), convnext_mult=2,
                                           transposed_upsample=True), [x, t], gen,
               {**small, "block": "convnext", "mult": 2, "upsample": "transposed"})
    write_case("unet_small_selfcond", Unet(dim=8, channels=1, dim_mults=(1, 2), self_condition=True),
               [x, t, randn(2, 1, 8, 8)], gen, {**small, "self_condition": 1},
               call=lambda m, x, t, c: m(x, t, c))

    model = fashion_unet()
    names = [{"name": k, "shape": list(v.shape)} for k, v in model.state_dict().items()]
    count = sum(p.numel() for p in model.parameters())
    tmp = os.path.join(OUT, "unet_fashion_names.json.tmp")
    with open(tmp, "w") as f:
        lines = ",\n".join("  " + json.dumps(n) for n in names)
        f.write('{"config": {"dim": 28, "channels": 1, "dim_mults": [1, 2, 4]},\n'
                f'"parameter_count": {count},\n"parameters": [\n{lines}\n]}}\n')
    os.replace(tmp, os.path.join(OUT, "unet_fashion_names.json"))
    print(f"Fashion-MNIST Unet(dim=28, channels=1, dim_mults=(1, 2, 4)): {count:,} parameters, "
          f"{len(names)} tensors")
    variant = Unet(dim=28, channels=1, dim_mults=(1, 2, 4), convnext_mult=2, transposed_upsample=True)
    print(f"  ConvNeXt variant (mult 2, transposed-conv upsampling): "
          f"{sum(p.numel() for p in variant.parameters()):,} parameters, {len(variant.state_dict())} tensors")
    with torch.no_grad():
        print("  output shape for [4, 1, 28, 28]:", list(model(torch.randn(4, 1, 28, 28), torch.tensor([0., 1., 2., 3.])).shape))

    # A checkpoint written by the Swift chapter, if one is there, must load with strict=True.
    written_by_swift = os.path.join(HERE, "..", "..", "..", "output", "Chapter05-UNet", "unet.safetensors")
    if os.path.exists(written_by_swift):
        check(os.path.normpath(written_by_swift))
    else:
        print("(run `swift run -c release Chapter05-UNet` first to also check a checkpoint written by Swift)")


def check(path):
    """A checkpoint written by Swift loads into the PyTorch model with strict=True."""
    model = fashion_unet()
    state = load_safetensors(path)
    result = model.load_state_dict(state, strict=True)
    with torch.no_grad():
        y = model(torch.zeros(2, 1, 28, 28), torch.tensor([0.0, 100.0]))
    print(f"{path}: load_state_dict(strict=True) OK ({result}); {len(state)} tensors, "
          f"{sum(v.numel() for v in state.values()):,} parameters; forward gives {list(y.shape)}, "
          f"finite: {bool(torch.isfinite(y).all())}")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--check":
        check(sys.argv[2])
    elif len(sys.argv) == 1:
        make_fixtures()
    else:
        sys.exit(__doc__)
