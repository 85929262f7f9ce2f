"""Wall-clock timing shared by the reference scripts, the same procedure as
Benchmarks/Sources/Timing.swift: a few warm-up calls, then `samples` samples, each repeating
the call until at least `min_sample_seconds` have passed. Returns (best, median) seconds per call.
"""
import math
import time


def measure(body, warmup=2, samples=7, min_sample_seconds=0.02):
    one_call = float("inf")
    for _ in range(max(1, warmup)):
        t0 = time.perf_counter()
        body()
        one_call = min(one_call, time.perf_counter() - t0)
    repeats = max(1, math.ceil(min_sample_seconds / max(one_call, 1e-9)))
    times = []
    for _ in range(max(1, samples)):
        t0 = time.perf_counter()
        for _ in range(repeats):
            body()
        times.append((time.perf_counter() - t0) / repeats)
    times.sort()
    return times[0], times[len(times) // 2]


def numpy_build():
    """numpy's version and the kernel its OpenBLAS picked at run time, e.g. "2.4.6, OpenBLAS Haswell"
    (OpenBLAS runs its AVX2 "Haswell" kernels on AMD Zen, AVX-512 or not; OPENBLAS_CORETYPE overrides)."""
    import ctypes
    import numpy as np
    try:
        path = next(line.split()[-1] for line in open("/proc/self/maps") if "openblas" in line.lower())
        lib = ctypes.CDLL(path)
        for name in ("scipy_openblas_get_corename64_", "scipy_openblas_get_corename", "openblas_get_corename64_",
                     "openblas_get_corename"):
            if hasattr(lib, name):
                f = getattr(lib, name)
                f.restype = ctypes.c_char_p
                return f"{np.__version__}, OpenBLAS {f().decode()}"
    except (StopIteration, OSError):
        pass
    return np.__version__


def torch_build():
    """PyTorch's version and the vector ISA of its kernels, e.g. "2.13.0+cpu, AVX512"
    (ATEN_CPU_CAPABILITY=avx2 and ONEDNN_MAX_CPU_ISA=AVX2 limit it to AVX2, as make bench-avx2 does)."""
    import torch
    return f"{torch.__version__}, {torch.backends.cpu.get_cpu_capability()}"
