"""Golden values for ScheduleTests.swift, computed in float64 with numpy.

Run: python3 Tests/DiffusionTests/Fixtures/make_schedule_golden.py > Tests/DiffusionTests/Fixtures/schedule_golden.json
The formulas follow the Annotated Diffusion / InFoCusp code (and diffusers' DDPMScheduler).
"""
import json
import numpy as np


def betas(kind, T, start=1e-4, end=0.02, s=0.008):
    if kind == "linear":
        return np.linspace(start, end, T, dtype=np.float64)
    if kind == "quadratic":
        return np.linspace(start ** 0.5, end ** 0.5, T, dtype=np.float64) ** 2
    if kind == "cosine":
        x = np.linspace(0, T, T + 1, dtype=np.float64)
        ac = np.cos(((x / T) + s) / (1 + s) * np.pi * 0.5) ** 2
        ac = ac / ac[0]
        return np.clip(1 - ac[1:] / ac[:-1], 1e-4, 0.9999)
    if kind == "sigmoid":
        x = np.linspace(-6, 6, T, dtype=np.float64)
        return 1 / (1 + np.exp(-x)) * (end - start) + start
    raise ValueError(kind)


def derived(b):
    a = 1 - b
    ac = np.cumprod(a)
    acp = np.concatenate([[1.0], ac[:-1]])
    pv = b * (1 - acp) / (1 - ac)
    return {
        "betas": b, "alphas_cumprod": ac, "alphas_cumprod_prev": acp,
        "sqrt_alphas_cumprod": np.sqrt(ac), "sqrt_one_minus_alphas_cumprod": np.sqrt(1 - ac),
        "posterior_variance": pv,
        "posterior_log_variance_clipped": np.log(np.maximum(pv, 1e-20)),
        "posterior_mean_coef1": b * np.sqrt(acp) / (1 - ac),
        "posterior_mean_coef2": (1 - acp) * np.sqrt(a) / (1 - ac),
        "snr": ac / (1 - ac),
    }


out = {}
for kind in ["linear", "quadratic", "cosine", "sigmoid"]:
    for T in [200, 250, 300, 1000]:
        d = derived(betas(kind, T))
        idx = sorted(set([0, 1, T // 2 - 13, T // 2, T - 2, T - 1] + ([487] if T == 1000 else [])))
        out[f"{kind}_{T}"] = {"T": T, "indices": idx,
                              "arrays": {k: [float(v[i]) for i in idx] for k, v in d.items()}}
print(json.dumps(out, indent=1, sort_keys=True))
