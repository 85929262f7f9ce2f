"""Times numpy's matmul on the shapes the Swift matmul benchmark asks for.

Called by Benchmarks/Sources/MatmulBenchmark.swift as

    python3 numpy_matmul.py '[{"name": "512", "m": 512, "n": 512, "k": 512,
                               "transA": false, "transB": false}, ...]'

and prints one JSON object on stdout:
{"numpy": version, "results": [{"name": ..., "best": s, "median": s}, ...]}
(seconds per call). Set OPENBLAS_NUM_THREADS (the Swift side does) to choose the threads.
Timing follows Benchmarks/Sources/Timing.swift: warm-up, then 7 samples, each repeating
the product for at least 20 ms. Transposed operands are numpy views (no copy), like gemm.
"""
import json
import sys

import numpy as np

import timing
from timing import measure


def main():
    shapes = json.loads(sys.argv[1])
    rng = np.random.default_rng(0)
    results = []
    for s in shapes:
        m, n, k = s["m"], s["n"], s["k"]
        # Stored like the Swift side: A is [K, M] when transA, B is [N, K] when transB.
        a = rng.standard_normal((k, m) if s["transA"] else (m, k), dtype=np.float32)
        b = rng.standard_normal((n, k) if s["transB"] else (k, n), dtype=np.float32)
        op_a = a.T if s["transA"] else a
        op_b = b.T if s["transB"] else b
        out = np.empty((m, n), dtype=np.float32)
        best, median = measure(lambda: np.matmul(op_a, op_b, out=out))
        results.append({"name": s["name"], "best": best, "median": median})
    json.dump({"numpy": timing.numpy_build(), "results": results}, sys.stdout)
    print()


if __name__ == "__main__":
    main()
