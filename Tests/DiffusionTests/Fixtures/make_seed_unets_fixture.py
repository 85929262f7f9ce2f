#!/usr/bin/env python3
"""The seeds' other two U-Nets in PyTorch, and the fixtures the Swift tests compare against.

Three of the course's source documents define a U-Net. The Annotated post's is in
make_unet_fixture.py; this script holds the other two, exactly as their documents write them:

  * MindSporeUnet — the MindSpore port of the Annotated post (seeds/000_40cce0da6d11e856.txt,
    the post's first version), here in PyTorch form. MindSpore's defaults are spelled out:
      - nn.Conv2d and nn.Conv2dTranspose have has_bias=False unless the code says True, so only
        init_conv and the two attention output convs have a bias;
      - nn.GELU() is the tanh approximation (approximate=True is MindSpore's default);
      - LinearAttention divides v by h·w and ends in the port's own LayerNorm: over the
        channels of each pixel, biased variance, a gain g [1, C, 1, 1] and no bias;
      - one skip per level (after the attention), the up path over in_out[1:] (so the
        first level's skip is never used), 4×4 stride-2 convs down, 4×4 stride-2 transposed
        convs up, Identity at the last level, final_conv = Sequential(ConvNeXt(dim, dim)
        without time embedding, 1×1 conv).
  * TwoResUNet — "DDPM from scratch in PyTorch" (seeds/002_2fbb0bc37897c6d2.txt): ConvNeXt
    blocks with biases and exact GELU, two skips per level, DownSample = pixel-unshuffle + 1×1
    conv, Upsample = nearest ×2 + 3×3 conv, 3×3 convs at the last level, and, as an option,
    the article's BlockAttention gate (1×1 convs, ReLU, sigmoid) on every skip of the up path:
    the gate g is the decoder's current x ("the upsample output of the lower block") and the
    gated input is the skip ("the residual connection at the level where attention is
    applied"); one gate per decoder level, at index 0 of the level, used for both skips.

einops is replaced by plain reshapes (F.pixel_unshuffle for 'b c (h p1) (w p2) -> b (c p1 p2) h w').

Usage (from the package root; needs python3 + torch, nothing else):

    python3 Tests/DiffusionTests/Fixtures/make_seed_unets_fixture.py
        writes Tests/DiffusionTests/Fixtures/unet/{mindspore,tworesunet,block_attention}*.safetensors
        and {mindspore,tworesunet}_fashion_names.json; prints the parameter counts and the forward
        FLOPs per image of the three Fashion-MNIST configurations (dim 28, dim_mults (1, 2, 4),
        one channel); checks any output/Chapter05-UNet*/unet.safetensors written by the Swift
        chapter with load_state_dict(strict=True).

    python3 Tests/DiffusionTests/Fixtures/make_seed_unets_fixture.py --check MODEL FILE
        MODEL is annotated, mindspore or tworesunet: loads FILE (written by Swift) into the
        PyTorch Fashion-MNIST model with load_state_dict(strict=True) and runs one forward pass.

Fixture layout and float64 references: as make_unet_fixture.py (its helpers are reused).
"""
import importlib.util
import json
import math
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location("make_unet_fixture", os.path.join(HERE, "make_unet_fixture.py"))
annotated = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(annotated)

OUT = annotated.OUT
default, exists = annotated.default, annotated.exists
Residual, PreNorm, Attention = annotated.Residual, annotated.PreNorm, annotated.Attention
SinusoidalPositionEmbeddings, PixelUnshuffle2, to_heads = (
    annotated.SinusoidalPositionEmbeddings, annotated.PixelUnshuffle2, annotated.to_heads)


# ----------------------------------------------------------------------------------------------
# The MindSpore port, in PyTorch form
# ----------------------------------------------------------------------------------------------

def MSGELU():
    """mindspore.nn.GELU(): approximate=True by default, 0.5x(1 + tanh(√(2/π)(x + 0.044715x³)))."""
    return nn.GELU(approximate="tanh")


class MSLayerNorm(nn.Module):
    """The port's LayerNorm: (x − mean_C) · rsqrt(var_C + 1e-5) · g, over the channels of each pixel."""

    def __init__(self, dim):
        super().__init__()
        self.g = nn.Parameter(torch.ones(1, dim, 1, 1))

    def forward(self, x):
        eps = 1e-5
        var = torch.var(x, dim=1, unbiased=False, keepdim=True)   # MindSpore Tensor.var: ddof = 0
        mean = torch.mean(x, dim=1, keepdim=True)
        return (x - mean) * (var + eps).rsqrt() * self.g


class MSConvNextBlock(nn.Module):
    """The port's ConvNextBlock: MindSpore's convs have no bias, its GELU is the tanh form."""

    def __init__(self, dim, dim_out, *, time_emb_dim=None, mult=2, norm=True):
        super().__init__()
        self.mlp = nn.Sequential(MSGELU(), nn.Linear(time_emb_dim, dim)) if exists(time_emb_dim) else None
        self.ds_conv = nn.Conv2d(dim, dim, 7, padding=3, groups=dim, bias=False)
        self.net = nn.Sequential(
            nn.GroupNorm(1, dim) if norm else nn.Identity(),
            nn.Conv2d(dim, dim_out * mult, 3, padding=1, bias=False),
            MSGELU(),
            nn.GroupNorm(1, dim_out * mult),
            nn.Conv2d(dim_out * mult, dim_out, 3, padding=1, bias=False),
        )
        self.res_conv = nn.Conv2d(dim, dim_out, 1, bias=False) if dim != dim_out else nn.Identity()

    def forward(self, x, time_emb=None):
        h = self.ds_conv(x)
        if exists(self.mlp) and exists(time_emb):
            h = h + self.mlp(time_emb)[:, :, None, None]
        h = self.net(h)
        return h + self.res_conv(x)


class MSLinearAttention(nn.Module):
    """The port's LinearAttention: v / (h·w), and to_out = (Conv2d with bias, LayerNorm)."""

    def __init__(self, dim, heads=4, dim_head=32):
        super().__init__()
        self.scale = dim_head ** -0.5
        self.heads = heads
        hidden_dim = dim_head * heads
        self.to_qkv = nn.Conv2d(dim, hidden_dim * 3, 1, bias=False)
        self.to_out = nn.Sequential(nn.Conv2d(hidden_dim, dim, 1, bias=True), MSLayerNorm(dim))

    def forward(self, x):
        b, c, h, w = x.shape
        q, k, v = (to_heads(t, self.heads) for t in self.to_qkv(x).chunk(3, dim=1))
        q = q.softmax(dim=-2)
        k = k.softmax(dim=-1)
        q = q * self.scale
        v = v / (h * w)
        context = torch.einsum("bhdn,bhen->bhde", k, v)
        out = torch.einsum("bhde,bhdn->bhen", context, q)
        out = out.reshape(b, -1, h, w)
        return self.to_out(out)


def MSDownsample(dim):
    """nn.Conv2d(dim, dim, 4, 2, pad_mode="pad", padding=1): has_bias False."""
    return nn.Conv2d(dim, dim, 4, stride=2, padding=1, bias=False)


def MSUpsample(dim):
    """nn.Conv2dTranspose(dim, dim, 4, 2, pad_mode="pad", padding=1): has_bias False."""
    return nn.ConvTranspose2d(dim, dim, 4, stride=2, padding=1, bias=False)


class MindSporeUnet(nn.Module):
    def __init__(self, dim, init_dim=None, out_dim=None, dim_mults=(1, 2, 4, 8), channels=3, convnext_mult=2):
        super().__init__()
        self.channels = channels
        init_dim = default(init_dim, dim // 3 * 2)
        self.init_conv = nn.Conv2d(channels, init_dim, 7, padding=3, bias=True)

        dims = [init_dim, *map(lambda m: dim * m, dim_mults)]
        in_out = list(zip(dims[:-1], dims[1:]))

        def block_klass(a, b, time_emb_dim=None):
            return MSConvNextBlock(a, b, time_emb_dim=time_emb_dim, mult=convnext_mult)

        time_dim = dim * 4
        self.time_mlp = nn.Sequential(SinusoidalPositionEmbeddings(dim), nn.Linear(dim, time_dim),
                                      MSGELU(), nn.Linear(time_dim, time_dim))

        self.downs = nn.ModuleList([])
        self.ups = nn.ModuleList([])
        num_resolutions = len(in_out)

        for ind, (dim_in, dim_out) in enumerate(in_out):
            is_last = ind >= (num_resolutions - 1)
            self.downs.append(nn.ModuleList([
                block_klass(dim_in, dim_out, time_emb_dim=time_dim),
                block_klass(dim_out, dim_out, time_emb_dim=time_dim),
                Residual(PreNorm(dim_out, MSLinearAttention(dim_out))),
                MSDownsample(dim_out) if not is_last else nn.Identity(),
            ]))

        mid_dim = dims[-1]
        self.mid_block1 = block_klass(mid_dim, mid_dim, time_emb_dim=time_dim)
        self.mid_attn = Residual(PreNorm(mid_dim, Attention(mid_dim)))
        self.mid_block2 = block_klass(mid_dim, mid_dim, time_emb_dim=time_dim)

        for ind, (dim_in, dim_out) in enumerate(reversed(in_out[1:])):
            is_last = ind >= (num_resolutions - 1)      # never true: every up level upsamples
            self.ups.append(nn.ModuleList([
                block_klass(dim_out * 2, dim_in, time_emb_dim=time_dim),
                block_klass(dim_in, dim_in, time_emb_dim=time_dim),
                Residual(PreNorm(dim_in, MSLinearAttention(dim_in))),
                MSUpsample(dim_in) if not is_last else nn.Identity(),
            ]))

        out_dim = default(out_dim, channels)
        self.final_conv = nn.Sequential(block_klass(dim, dim), nn.Conv2d(dim, out_dim, 1, bias=False))

    def forward(self, x, time):
        x = self.init_conv(x)
        t = self.time_mlp(time)
        h = []
        for block1, block2, attn, downsample in self.downs:
            x = block1(x, t)
            x = block2(x, t)
            x = attn(x)
            h.append(x)
            x = downsample(x)
        x = self.mid_block1(x, t)
        x = self.mid_attn(x)
        x = self.mid_block2(x, t)
        len_h = len(h) - 1
        for block1, block2, attn, upsample in self.ups:
            x = torch.cat((x, h[len_h]), dim=1)
            len_h -= 1
            x = block1(x, t)
            x = block2(x, t)
            x = attn(x)
            x = upsample(x)
        return self.final_conv(x)


# ----------------------------------------------------------------------------------------------
# TwoResUNet ("DDPM from scratch in PyTorch")
# ----------------------------------------------------------------------------------------------

class ConvNextBlock(nn.Module):
    def __init__(self, in_channels, out_channels, mult=2, time_embedding_dim=None, norm=True, group=8):
        super().__init__()
        self.mlp = (nn.Sequential(nn.GELU(), nn.Linear(time_embedding_dim, in_channels))
                    if time_embedding_dim else None)
        self.in_conv = nn.Conv2d(in_channels, in_channels, 7, padding=3, groups=in_channels)
        self.block = nn.Sequential(
            nn.GroupNorm(1, in_channels) if norm else nn.Identity(),
            nn.Conv2d(in_channels, out_channels * mult, 3, padding=1),
            nn.GELU(),
            nn.GroupNorm(1, out_channels * mult),
            nn.Conv2d(out_channels * mult, out_channels, 3, padding=1),
        )
        self.residual_conv = (nn.Conv2d(in_channels, out_channels, 1)
                              if in_channels != out_channels else nn.Identity())

    def forward(self, x, time_embedding=None):
        h = self.in_conv(x)
        if self.mlp is not None and time_embedding is not None:
            h = h + self.mlp(time_embedding)[:, :, None, None]   # rearrange "b c -> b c 1 1"
        h = self.block(h)
        return h + self.residual_conv(x)


class SinusoidalPosEmb(nn.Module):
    def __init__(self, dim, theta=10000):
        super().__init__()
        self.dim = dim
        self.theta = theta

    def forward(self, x):
        half_dim = self.dim // 2
        emb = math.log(self.theta) / (half_dim - 1)
        emb = torch.exp(torch.arange(half_dim, dtype=x.dtype) * -emb)
        emb = x[:, None] * emb[None, :]
        return torch.cat((emb.sin(), emb.cos()), dim=-1)


class DownSample(nn.Module):
    def __init__(self, dim, dim_out=None):
        super().__init__()
        self.net = nn.Sequential(PixelUnshuffle2(), nn.Conv2d(dim * 4, default(dim_out, dim), 1))

    def forward(self, x):
        return self.net(x)


class Upsample(nn.Module):
    def __init__(self, dim, dim_out=None):
        super().__init__()
        self.net = nn.Sequential(nn.Upsample(scale_factor=2, mode="nearest"),
                                 nn.Conv2d(dim, dim_out or dim, kernel_size=3, padding=1))

    def forward(self, x):
        return self.net(x)


class BlockAttention(nn.Module):
    def __init__(self, gate_in_channel, residual_in_channel, scale_factor):
        super().__init__()
        self.gate_conv = nn.Conv2d(gate_in_channel, gate_in_channel, kernel_size=1, stride=1)
        self.residual_conv = nn.Conv2d(residual_in_channel, gate_in_channel, kernel_size=1, stride=1)
        self.in_conv = nn.Conv2d(gate_in_channel, 1, kernel_size=1, stride=1)
        self.relu = nn.ReLU()
        self.sigmoid = nn.Sigmoid()

    def forward(self, x, g):
        in_attention = self.relu(self.gate_conv(g) + self.residual_conv(x))
        in_attention = self.in_conv(in_attention)
        in_attention = self.sigmoid(in_attention)
        return in_attention * x


class TwoResUNet(nn.Module):
    def __init__(self, dim, init_dim=None, out_dim=None, dim_mults=(1, 2, 4, 8), channels=3,
                 sinusoidal_pos_emb_theta=10000, convnext_block_groups=8, block_attention=False):
        super().__init__()
        self.channels = channels
        self.block_attention = block_attention
        input_channels = channels
        self.init_dim = default(init_dim, dim)
        self.init_conv = nn.Conv2d(input_channels, self.init_dim, 7, padding=3)

        dims = [self.init_dim, *map(lambda m: dim * m, dim_mults)]
        in_out = list(zip(dims[:-1], dims[1:]))

        sinu_pos_emb = SinusoidalPosEmb(dim, theta=sinusoidal_pos_emb_theta)
        time_dim = dim * 4
        self.time_mlp = nn.Sequential(sinu_pos_emb, nn.Linear(dim, time_dim), nn.GELU(), nn.Linear(time_dim, time_dim))

        self.downs = nn.ModuleList([])
        self.ups = nn.ModuleList([])
        num_resolutions = len(in_out)

        for ind, (dim_in, dim_out) in enumerate(in_out):
            is_last = ind >= (num_resolutions - 1)
            self.downs.append(nn.ModuleList([
                ConvNextBlock(in_channels=dim_in, out_channels=dim_in, time_embedding_dim=time_dim,
                              group=convnext_block_groups),
                ConvNextBlock(in_channels=dim_in, out_channels=dim_in, time_embedding_dim=time_dim,
                              group=convnext_block_groups),
                DownSample(dim_in, dim_out) if not is_last else nn.Conv2d(dim_in, dim_out, 3, padding=1),
            ]))

        mid_dim = dims[-1]
        self.mid_block1 = ConvNextBlock(mid_dim, mid_dim, time_embedding_dim=time_dim)
        self.mid_block2 = ConvNextBlock(mid_dim, mid_dim, time_embedding_dim=time_dim)

        for ind, (dim_in, dim_out) in enumerate(reversed(in_out)):
            is_last = ind == (len(in_out) - 1)
            is_first = ind == 0
            gate = [BlockAttention(dim_out, dim_in, 2 if not is_first else 1)] if block_attention else []
            self.ups.append(nn.ModuleList(gate + [
                ConvNextBlock(in_channels=dim_out + dim_in, out_channels=dim_out, time_embedding_dim=time_dim,
                              group=convnext_block_groups),
                ConvNextBlock(in_channels=dim_out + dim_in, out_channels=dim_out, time_embedding_dim=time_dim,
                              group=convnext_block_groups),
                Upsample(dim_out, dim_in) if not is_last else nn.Conv2d(dim_out, dim_in, 3, padding=1),
            ]))

        self.out_dim = default(out_dim, channels)
        self.final_res_block = ConvNextBlock(dim * 2, dim, time_embedding_dim=time_dim)
        self.final_conv = nn.Conv2d(dim, self.out_dim, 1)

    def forward(self, x, time):
        x = self.init_conv(x)
        r = x.clone()
        t = self.time_mlp(time)
        unet_stack = []
        for down1, down2, downsample in self.downs:
            x = down1(x, t)
            unet_stack.append(x)
            x = down2(x, t)
            unet_stack.append(x)
            x = downsample(x)
        x = self.mid_block1(x, t)
        x = self.mid_block2(x, t)
        for level in self.ups:
            if self.block_attention:
                attention, up1, up2, upsample = level
                x = torch.cat((x, attention(unet_stack.pop(), x)), dim=1)
                x = up1(x, t)
                x = torch.cat((x, attention(unet_stack.pop(), x)), dim=1)
            else:
                up1, up2, upsample = level
                x = torch.cat((x, unet_stack.pop()), dim=1)
                x = up1(x, t)
                x = torch.cat((x, unet_stack.pop()), dim=1)
            x = up2(x, t)
            x = upsample(x)
        x = torch.cat((x, r), dim=1)
        x = self.final_res_block(x, t)
        return self.final_conv(x)


# ----------------------------------------------------------------------------------------------
# The three Fashion-MNIST configurations, their sizes and FLOPs
# ----------------------------------------------------------------------------------------------

FASHION = {"dim": 28, "channels": 1, "dim_mults": (1, 2, 4)}


def fashion_model(name):
    if name == "annotated":
        return annotated.fashion_unet()
    if name == "mindspore":
        return MindSporeUnet(**FASHION)
    if name == "tworesunet":
        return TwoResUNet(**FASHION)
    sys.exit(f"unknown model '{name}'; choose annotated, mindspore or tworesunet")


def forward_flops(model):
    """FLOPs of one image's forward pass (convolutions and matmuls, 2 per multiply-add)."""
    from torch.utils.flop_counter import FlopCounterMode
    counter = FlopCounterMode(display=False)
    with torch.no_grad(), counter:
        model(torch.zeros(1, 1, 28, 28), torch.tensor([10.0]))
    return counter.get_total_flops()


# ----------------------------------------------------------------------------------------------
# Fixtures
# ----------------------------------------------------------------------------------------------

def write_case(name, module, inputs, gen, meta, names=("input", "time"), grads=1):
    """As make_unet_fixture.write_case: float64, L = sum(out * R), weights + io files. The
    inputs are stored under `names`; the first `grads` of them get their gradient (`grad.<name>`).
    Norm weights are perturbed first: GroupNorm's, and the gain g of the port's LayerNorm."""
    annotated.perturb_norms(module, gen)
    with torch.no_grad():
        for m in module.modules():
            if isinstance(m, MSLayerNorm):
                m.g.add_(0.2 * torch.randn(m.g.shape, generator=gen, dtype=m.g.dtype))
    module = module.double()
    xs = [t.double().clone().requires_grad_(i < grads) for i, t in enumerate(inputs)]
    out = module(*xs)
    R = torch.randn(out.shape, generator=gen, dtype=torch.float64)
    loss = (out * R).sum()
    loss.backward()
    annotated.save_safetensors(dict(module.state_dict()), os.path.join(OUT, f"{name}.weights.safetensors"), metadata=meta)
    io = {"output": out, "loss_weight": R}
    for i, (key, x) in enumerate(zip(names, xs)):
        io[key] = x
        if i < grads:
            io["grad." + key] = x.grad
    for pname, p in module.named_parameters():
        io["grad." + pname] = p.grad
    annotated.save_safetensors(io, os.path.join(OUT, f"{name}.io.safetensors"), metadata=meta)
    print(f"  {name:28s} in {list(xs[0].shape)} -> out {list(out.shape)}, "
          f"{sum(p.numel() for p in module.parameters())} parameters, loss {loss.item():.6f}")


def write_names(name, model, config):
    names = [{"name": k, "shape": list(v.shape)} for k, v in model.state_dict().items()]
    count = sum(p.numel() for p in model.parameters())
    tmp = os.path.join(OUT, f"{name}_fashion_names.json.tmp")
    with open(tmp, "w") as f:
        lines = ",\n".join("  " + json.dumps(n) for n in names)
        f.write(f'{{"config": {json.dumps(config)},\n"parameter_count": {count},\n"parameters": [\n{lines}\n]}}\n')
    os.replace(tmp, os.path.join(OUT, f"{name}_fashion_names.json"))
    return count, len(names)


def make_fixtures():
    os.makedirs(OUT, exist_ok=True)
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(4321)

    def randn(*shape):
        return torch.randn(shape, generator=gen)

    print("block fixtures:")
    write_case("mindspore_convnext_block", MSConvNextBlock(8, 16, time_emb_dim=32, mult=2),
               [randn(2, 8, 6, 6), randn(2, 32)], gen, {"dim": 8, "dim_out": 16, "time_emb_dim": 32, "mult": 2})
    write_case("mindspore_linear_attention", Residual(PreNorm(8, MSLinearAttention(8))), [randn(2, 8, 6, 6)], gen,
               {"dim": 8, "heads": 4, "dim_head": 32})
    write_case("mindspore_downsample", MSDownsample(8), [randn(2, 8, 6, 6)], gen, {"dim": 8})
    write_case("tworesunet_convnext_block", ConvNextBlock(8, 16, time_embedding_dim=32),
               [randn(2, 8, 6, 6), randn(2, 32)], gen, {"in_channels": 8, "out_channels": 16, "time_embedding_dim": 32})
    write_case("block_attention", BlockAttention(16, 8, 2), [randn(2, 8, 6, 6), randn(2, 16, 6, 6)], gen,
               {"gate_in_channel": 16, "residual_in_channel": 8}, names=("input", "gate"), grads=2)

    print("whole-model fixtures (dim 8, dim_mults (1, 2), channels 1, batch 2, 8x8):")
    small = {"dim": 8, "dim_mults": "1,2", "channels": 1}
    x, t = randn(2, 1, 8, 8), torch.tensor([3.0, 150.0])
    write_case("mindspore_small", MindSporeUnet(dim=8, channels=1, dim_mults=(1, 2)), [x, t], gen, small)
    write_case("tworesunet_small", TwoResUNet(dim=8, channels=1, dim_mults=(1, 2)), [x, t], gen, small)
    write_case("tworesunet_small_gated", TwoResUNet(dim=8, channels=1, dim_mults=(1, 2), block_attention=True),
               [x, t], gen, {**small, "block_attention": 1})

    print("Fashion-MNIST configurations (dim 28, dim_mults (1, 2, 4), channels 1):")
    config = {"dim": 28, "channels": 1, "dim_mults": [1, 2, 4]}
    for name in ["annotated", "mindspore", "tworesunet"]:
        model = fashion_model(name)
        count = sum(p.numel() for p in model.parameters())
        if name != "annotated":
            _, tensors = write_names(name, model, config)
        else:
            tensors = len(model.state_dict())
        flops = forward_flops(model)
        print(f"  {name:10s} {count:>10,} parameters, {tensors:3d} tensors, "
              f"{flops / 1e9:.3f} GFLOP per image forward (convs and matmuls)")
    gated = TwoResUNet(**FASHION, block_attention=True)
    print(f"  tworesunet with BlockAttention gates: {sum(p.numel() for p in gated.parameters()):,} parameters, "
          f"{forward_flops(gated) / 1e9:.3f} GFLOP per image")

    # Checkpoints written by the Swift chapter, if any, must load with strict=True.
    root = os.path.normpath(os.path.join(HERE, "..", "..", ".."))
    for name, folder in [("annotated", "Chapter05-UNet"), ("mindspore", "Chapter05-UNet-mindspore"),
                         ("tworesunet", "Chapter05-UNet-tworesunet")]:
        path = os.path.join(root, "output", folder, "unet.safetensors")
        if os.path.exists(path):
            check(name, path)


def check(name, path):
    """A checkpoint written by Swift loads into the PyTorch model with strict=True."""
    model = fashion_model(name)
    state = annotated.load_safetensors(path)
    result = model.load_state_dict(state, strict=True)
    with torch.no_grad():
        y = model(torch.zeros(2, 1, 28, 28), torch.tensor([0.0, 100.0]))
    print(f"{path} into {name}: load_state_dict(strict=True) OK ({result}); {len(state)} tensors, "
          f"{sum(v.numel() for v in state.values()):,} parameters; forward gives {list(y.shape)}, "
          f"finite: {bool(torch.isfinite(y).all())}")


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--check":
        check(sys.argv[2], sys.argv[3])
    elif len(sys.argv) == 1:
        make_fixtures()
    else:
        sys.exit(__doc__)
