"""Throughput of `sniascore.simulate.simulate_sedm` on one core.

Run: OMP_NUM_THREADS=1 python benchmarks/bench_simulate.py [n_spectra]
Prints spectra per second for a typical bank template (fluxed .lnw, ~1000 points), with a host galaxy, dust and
the full instrument model, and for the parametric CV/TDE generators followed by the simulator.
"""
import os
os.environ.setdefault("OMP_NUM_THREADS", "1")
import sys
import time

import numpy as np

from sniascore.simulate import cv_spectrum, tde_spectrum, blackbody, binning_matrix
from sniascore.effects import simulate_sedm


def _template():
    "A template like the bank's: SNID log grid, 2500-10000 A, 1024 points, cut to 3500-7400 A rest."
    wave = np.exp(np.linspace(np.log(2500.0), np.log(10000.0), 1024))
    keep = (wave > 3500) & (wave < 7400)
    wave = wave[keep]
    flux = blackbody(wave, 9000.0) * (1 + 0.3 * np.sin(wave / 120.0))
    return wave, flux


def bench(n):
    wave, flux = _template()
    host = (np.arange(3000.0, 10000.0, 5.0), blackbody(np.arange(3000.0, 10000.0, 5.0), 4500.0))
    rng = np.random.default_rng(0)
    binning_matrix()  # built once per resolution; not part of the per-spectrum cost
    simulate_sedm(wave, flux, 0.05, rng=rng, snr=10)
    t0, c0 = time.perf_counter(), time.process_time()
    for i in range(n):
        simulate_sedm(wave, flux, rng.uniform(0.01, 0.12), rng=rng, snr=rng.uniform(3, 30), host=host,
                      host_fraction=rng.uniform(0, 0.5), ebv_mw=0.03, ebv_host=rng.uniform(0, 0.2))
    t_bank, c_bank = time.perf_counter() - t0, time.process_time() - c0
    t0, c0 = time.perf_counter(), time.process_time()
    for i in range(n):
        w, f = (cv_spectrum if i % 2 else tde_spectrum)(rng)
        simulate_sedm(w, f, 0.0 if i % 2 else 0.05, rng=rng, snr=10)
    t_gen, c_gen = time.perf_counter() - t0, time.process_time() - c0
    # CPU time is the per-core cost; wall time also counts waiting for a core on a shared machine
    print(f"simulate_sedm, bank-like template + host + dust: {n / c_bank:6.0f} spectra/s per core (CPU time), "
          f"{n / t_bank:6.0f} spectra/s wall clock")
    print(f"cv_spectrum/tde_spectrum + simulate_sedm:         {n / c_gen:6.0f} spectra/s per core (CPU time), "
          f"{n / t_gen:6.0f} spectra/s wall clock")
    return n / c_bank


if __name__ == "__main__":
    bench(int(sys.argv[1]) if len(sys.argv) > 1 else 2000)
