"""Throughput of `sniascore.preprocessing.preprocess` (and `rloess`) on one core.

Run with one BLAS thread so the figure is per core:
    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 python benchmarks/bench_preprocessing.py [--n 10000] [--repeat 3]
Input: realistic synthetic gridded spectra (smooth blackbody-like continua times random broad features,
with noise of per-pixel S/N 3-50), so the robustness iterations do real work.
"""
import argparse
import os
import time

for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, "1")

import numpy as np

from sniascore.preprocessing import GRID_WAVE, preprocess, rloess, to_grid


def synthetic_batch(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    lam = GRID_WAVE[None, :] * 1e-8                              # cm
    temperature = rng.uniform(5000, 15000, (n, 1))
    continuum = lam ** -5 / np.expm1(1.4388 / (lam * temperature))
    centres = rng.uniform(3800, 9150, (n, 8))
    depths = rng.uniform(-0.4, 0.6, (n, 8))
    widths = rng.uniform(40, 150, (n, 8))
    features = 1 + (depths[:, :, None] * np.exp(-0.5 * ((GRID_WAVE - centres[:, :, None]) / widths[:, :, None]) ** 2)).sum(1)
    flux = continuum * features
    snr = rng.uniform(3, 50, (n, 1))
    return flux + rng.normal(size=flux.shape) * np.median(flux, axis=1, keepdims=True) / snr


def best_rate(fn, n: int, repeat: int) -> float:
    best = np.inf
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return n / best


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    flux = synthetic_batch(args.n)
    print(f"batch: {args.n} spectra x {flux.shape[1]} bins; threads: OMP_NUM_THREADS={os.environ['OMP_NUM_THREADS']}")
    preprocess(flux[:10])                                         # build the cached design once
    print(f"preprocess (median, rloess continuum, 5 robust passes): {best_rate(lambda: preprocess(flux), args.n, args.repeat):,.0f} spectra/s")
    print(f"rloess alone, span 0.3, 5 robust passes:             {best_rate(lambda: rloess(flux, 0.3), args.n, args.repeat):,.0f} spectra/s")
    print(f"rloess alone, no robustness:                         {best_rate(lambda: rloess(flux, 0.3, iterations=0), args.n, args.repeat):,.0f} spectra/s")
    sedm_wave = 3776.712 + 25.5708 * np.arange(214)
    sedm_flux = np.interp(sedm_wave, GRID_WAVE, flux[0])
    m = min(args.n, 2000)
    print(f"to_grid (one SEDM spectrum at a time, python loop):  {best_rate(lambda: [to_grid(sedm_wave, sedm_flux) for _ in range(m)], m, args.repeat):,.0f} spectra/s")


if __name__ == "__main__":
    main()
