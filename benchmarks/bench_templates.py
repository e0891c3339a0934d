"""Load time of the template bank (`sniascore.template_bank.load_bank`) with and without its cache.

    OMP_NUM_THREADS=1 python benchmarks/bench_templates.py [--data PATH] [--repeat 3]

Prints the time to read every bank from the files (cache=False), to build and write a fresh cache
(in a temporary folder), and to read that cache back, plus the bank and cache sizes.
"""
import argparse
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

from sniascore.template_bank import load_bank  # noqa: E402


def timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=None, help="data root or templates folder (default: data_dir())")
    ap.add_argument("--repeat", type=int, default=3, help="repetitions of the cached load")
    args = ap.parse_args()
    bank, t_files = timed(lambda: load_bank(args.data, cache=False))
    print(f"{bank}")
    print(f"no cache (read all files):      {t_files:7.2f} s")
    with tempfile.TemporaryDirectory() as tmp:
        _, t_write = timed(lambda: load_bank(args.data, cache=tmp))
        size = sum(p.stat().st_size for p in Path(tmp).glob("*.npz"))
        print(f"cold cache (read + write .npz): {t_write:7.2f} s   cache file {size / 2**20:.1f} MiB")
        times = [timed(lambda: load_bank(args.data, cache=tmp))[1] for _ in range(args.repeat)]
        print(f"warm cache (read .npz):         {min(times):7.2f} s   (best of {args.repeat}; "
              f"all: {', '.join(f'{t:.2f}' for t in times)})")


if __name__ == "__main__":
    main()
