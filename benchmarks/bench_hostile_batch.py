"""A night's archive with bad files in it: `sniascore classify` on N good and M hostile files.

Prints the number of rows, the exit code, the wall time, the throughput and the peak memory (resident set size) of the
`sniascore` process, and checks that every file has exactly one row. The good files are copies of the package's
simulated examples under new names; the hostile ones cycle through the ways a file can be bad: empty, binary,
garbage text, truncated mid-row, one column, non-monotonic wavelengths, NaN everywhere, another instrument's range,
a symbolic link to nothing, a name that does not exist, and a file without read permission (unreadable unless the
run is root).

    python benchmarks/bench_hostile_batch.py [--good 1000] [--hostile 100] [--passes 100]
"""
import argparse, os, resource, shutil, subprocess, sys, tempfile, time
from importlib.resources import files
from pathlib import Path

import numpy as np
import pandas as pd


def hostile(folder: Path, i: int) -> Path:
    "The i-th hostile input in `folder` (cycling through the kinds listed above)."
    kind = i % 11
    p = folder / f'hostile_{i:04d}.ascii'
    w = np.linspace(3700, 9300, 214)
    if kind == 0: p.write_bytes(b'')
    elif kind == 1: p.write_bytes(os.urandom(3000).replace(b'\n', b'\x00'))
    elif kind == 2: p.write_text('this is not a spectrum\nat all\n')
    elif kind == 3: p.write_text(''.join(f'{a:.1f} 1.0e-16 1e-34\n' for a in w[:100]) + '6330.')
    elif kind == 4: p.write_text(''.join(f'{a:.1f}\n' for a in w))
    elif kind == 5: p.write_text(''.join(f'{a:.1f} 1.0\n' for a in np.r_[w[:50], w[40:]]))
    elif kind == 6: p.write_text(''.join(f'{a:.1f} nan\n' for a in w))
    elif kind == 7: p.write_text(''.join(f'{a:.1f} 1.0\n' for a in np.linspace(10000, 20000, 214)))
    elif kind == 8: p.symlink_to(folder / 'nowhere.ascii')
    elif kind == 9: p = folder / f'missing_{i:04d}.ascii'
    else: p.write_text('4000 1\n' * 20); p.chmod(0)
    return p


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--good', type=int, default=1000)
    ap.add_argument('--hostile', type=int, default=100)
    ap.add_argument('--passes', type=int, default=100)
    args = ap.parse_args(argv)
    examples = sorted(Path(str(files('sniascore') / 'examples')).glob('*.ascii'))
    folder = Path(tempfile.mkdtemp(prefix='sniascore_hostile_'))
    good = []
    for i in range(args.good):
        good.append(folder / f'ZTF{i:05d}.ascii'); shutil.copy(examples[i % len(examples)], good[-1])
    inputs = [str(p) for p in good] + [str(hostile(folder, i)) for i in range(args.hostile)]
    out = folder / 'results.csv'
    t0 = time.time()
    r = subprocess.run([shutil.which('sniascore'), 'classify', *inputs, '--passes', str(args.passes), '-q',
                        '--out', str(out)], capture_output=True, text=True, env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL='2'))
    wall = time.time() - t0
    peak_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # Linux: kilobytes
    table = pd.read_csv(out) if out.exists() else pd.DataFrame(columns=['file', 'decision'])
    one_each = sorted(table['file']) == sorted(inputs)
    print(f'inputs                {len(inputs)} ({args.good} good, {args.hostile} hostile)')
    print(f'rows                  {len(table)} (one per input: {one_each})')
    print(f"decisions             {table['decision'].value_counts().to_dict()}")
    print(f'exit code             {r.returncode}')
    print(f'wall time             {wall:.1f} s ({len(inputs) / wall:.1f} files/s, {args.passes} passes, {os.cpu_count()} cores)')
    print(f'peak memory           {peak_mib:.0f} MiB (resident, the sniascore process)')
    shutil.rmtree(folder, ignore_errors=True)
    return 0 if (one_each and r.returncode == 3 and len(table) == len(inputs)) else 1


if __name__ == '__main__':
    raise SystemExit(main())
