"""Writes frechet_fixture.json: reference values for FrechetDistance and SymmetricEigen.

Two feature sets with correlated columns, X [200, 16] and Y [150, 16] (multiples of 1/64, so
the Swift test reads exactly the same numbers in float32), their means and unbiased covariances
(numpy.cov(rowvar=False)), and the Fréchet distance computed the way the reference FID code
does it (pytorch-fid / TTUR):

    d² = ‖μ₁ − μ₂‖² + Tr(Σ₁) + Tr(Σ₂) − 2 Tr(sqrtm(Σ₁ Σ₂))

with scipy.linalg.sqrtm (real part), all in float64. Also a random symmetric 12 × 12 matrix
(with two near-equal eigenvalues) and its eigenvalues from numpy.linalg.eigvalsh, and a
rank-deficient covariance (5 points in 16 dimensions) with its FID against Σ_Y, which tests
the clamping of round-off eigenvalues.

Run from anywhere: python3 Tests/DiffusionTests/Fixtures/make_frechet_fixture.py
"""
import json
import os

import numpy as np
import scipy.linalg


def fid(mu1, s1, mu2, s2):
    covmean = scipy.linalg.sqrtm(s1 @ s2)
    covmean = np.real(covmean)
    return float(np.sum((mu1 - mu2) ** 2) + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean))


def main():
    rng = np.random.default_rng(2024)
    f = 16
    mix_x = rng.normal(size=(f, f)) / np.sqrt(f)
    mix_y = mix_x + 0.3 * rng.normal(size=(f, f)) / np.sqrt(f)
    # Multiples of 1/64: exact in float32 and short in JSON.
    x = (np.round((rng.normal(size=(200, f)) @ mix_x + 0.5) * 64) / 64).astype(np.float32)
    y = (np.round((rng.normal(size=(150, f)) @ mix_y * 1.2 + 0.3) * 64) / 64).astype(np.float32)
    x64, y64 = x.astype(np.float64), y.astype(np.float64)
    mu_x, mu_y = x64.mean(axis=0), y64.mean(axis=0)
    s_x, s_y = np.cov(x64, rowvar=False), np.cov(y64, rowvar=False)

    q, _ = np.linalg.qr(rng.normal(size=(12, 12)))
    lam = np.array([-3.0, -1.0, -0.5, 0.0, 0.25, 1.0, 1.0 + 1e-7, 2.0, 3.5, 4.0, 7.0, 10.0])
    a = q @ np.diag(lam) @ q.T
    a = 0.5 * (a + a.T)

    z = x64[:5]                                       # 5 points: covariance of rank 4
    mu_z, s_z = z.mean(axis=0), np.cov(z, rowvar=False)

    out = {
        "x": x64.ravel().tolist(), "x_shape": list(x.shape),
        "y": y64.ravel().tolist(), "y_shape": list(y.shape),
        "mean_x": mu_x.tolist(), "mean_y": mu_y.tolist(),
        "cov_x": s_x.ravel().tolist(), "cov_y": s_y.ravel().tolist(),
        "fid_xy": fid(mu_x, s_x, mu_y, s_y),
        "fid_zy": fid(mu_z, s_z, mu_y, s_y),
        "trace_sqrt_xy": float(np.trace(np.real(scipy.linalg.sqrtm(s_x @ s_y)))),
        "symmetric": a.ravel().tolist(), "symmetric_n": 12,
        "symmetric_eigenvalues": np.linalg.eigvalsh(a).tolist(),
    }
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "frechet_fixture.json")
    with open(path, "w") as fh:
        json.dump(out, fh)
    print(f"wrote {path}: FID(X, Y) = {out['fid_xy']:.10f}, FID(Z, Y) = {out['fid_zy']:.10f}")


if __name__ == "__main__":
    main()
