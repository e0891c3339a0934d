"""Speed-up of the Dask engine on this machine: archive reclassification and a short search, 2 local workers vs 1.

    python benchmarks/bench_search.py [--spectra 2000] [--passes 100] [--chunk 100] [--trials 8] [--epochs 2]
                                      [--survey data/survey] [--skip-archive] [--skip-search]

Archive: `--spectra` copies of the example spectra (`sniascore/examples/*.ascii`) under new names, reclassified by
`sniascore.engine.reclassify` into a fresh table, once on a LocalCluster of 1 worker and once of 2. Search: a grid of
`--trials` short configurations on the survey in `--survey` (`sniascore-survey --out data/survey`), `--epochs` epochs
each, with 1 worker and with 2. Every wall time includes starting the cluster and, in each worker, importing
TensorFlow and loading the model (what a user waits for); the workers' own task times are printed beside it. The
machine's core count and load are printed first: on a shared 2-core machine the ideal speed-up is 2 at best.
"""
import argparse, os, shutil, sys, tempfile, time
from pathlib import Path

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')
ROOT = Path(__file__).resolve().parents[1]


def archive(n: int, folder: Path) -> list:
    examples = sorted((ROOT / 'sniascore' / 'examples').glob('*.ascii'))
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        shutil.copy(examples[i % len(examples)], folder / f'archive_{i:05d}_{examples[i % len(examples)].name}')
    return sorted(folder.glob('*.ascii'))


def search_space(trials: int, epochs: int) -> str:
    layers = ['["gru"]', '["bilstm"]', '["gru", "bilstm"]', '["bilstm", "gru"]']
    units = [8, 16][: max(1, trials // len(layers))]
    return (f'[search]\nepochs = {epochs}\nselect_passes = 10\n[space]\nlayers = [{", ".join(layers[:trials])}]\n'
            f'units = {units}\ndropout = [0.3]\nbatch_size = [64]\n')


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--spectra', type=int, default=2000)
    p.add_argument('--passes', type=int, default=100)
    p.add_argument('--chunk', type=int, default=100)
    p.add_argument('--trials', type=int, default=8)
    p.add_argument('--epochs', type=int, default=2)
    p.add_argument('--survey', default=str(ROOT / 'data' / 'survey'))
    p.add_argument('--skip-archive', action='store_true')
    p.add_argument('--skip-search', action='store_true')
    args = p.parse_args()
    from sniascore.search import grid_size, load_space
    from sniascore.engine import reclassify, run_search
    print(f'{os.cpu_count()} CPUs visible, load average {os.getloadavg()[0]:.1f}', flush=True)
    work = Path(tempfile.mkdtemp(prefix='bench_search_'))
    try:
        if not args.skip_archive:
            paths = archive(args.spectra, work / 'archive')
            times = {}
            for workers in (1, 2):
                t0 = time.perf_counter()
                table = reclassify([work / 'archive'], work / f'archive_{workers}.csv', workers=workers, chunk=args.chunk,
                                   n_passes=args.passes, progress=False)
                times[workers] = time.perf_counter() - t0
                assert len(table) == len(paths) and table.file.is_unique
                print(f'archive: {len(paths)} spectra, {args.passes} passes, chunks of {args.chunk}, {workers} worker(s): '
                      f'{times[workers]:.1f} s ({len(paths) / times[workers]:.1f} spectra/s)', flush=True)
            print(f'archive speed-up, 2 workers vs 1: {times[1] / times[2]:.2f}x', flush=True)
        if not args.skip_search:
            space = load_space(search_space(args.trials, args.epochs))
            print(f'search: {grid_size(space)} configurations x {args.epochs} epochs on {args.survey}', flush=True)
            times = {}
            for workers in (1, 2):
                t0 = time.perf_counter()
                table = run_search(space, args.survey, work / f'search_{workers}', workers=workers, log=lambda s: None)
                times[workers] = time.perf_counter() - t0
                assert len(table) == grid_size(space) and set(table.state) == {'COMPLETE'}
                print(f'search, {workers} worker(s): {times[workers]:.1f} s wall; the trials themselves '
                      f'{table.seconds.sum():.1f} s in all', flush=True)
            print(f'search speed-up, 2 workers vs 1: {times[1] / times[2]:.2f}x', flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == '__main__':
    sys.exit(main())
