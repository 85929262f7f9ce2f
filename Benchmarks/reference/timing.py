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
