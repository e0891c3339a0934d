"""Speed of `sniascore.classify`: warm per-spectrum latency and batch throughput (prints figures; not a test).

    python benchmarks/bench_classify.py [--model DIR] [--passes 100] [--repeats 10] [--batch 32]

Uses the shipped model unless --model is given, and the real SEDM spectra (data_dir('sedm_real')) or the shipped
examples as input. "Warm" means the model is loaded and its compiled forward pass traced before timing, which is the
situation of `sniascore watch` and of a pipeline that keeps the process alive. `classify` runs the redshift network
only on the spectra that pass the cut, and stops the classifier's passes of a spectrum once its decision cannot
change (the batch is also timed with every pass, `stop_early=False`); `SNIascore.predict` (both networks on every spectrum) is also timed, on the
whole batch in one call and one spectrum per call, together with the TensorFlow start-up plus model load that a
one-shot `sniascore classify` pays.
"""
import argparse, os, time
from pathlib import Path

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--model', default=None, help='model folder (default: the shipped model)')
    parser.add_argument('--passes', type=int, default=100)
    parser.add_argument('--repeats', type=int, default=10, help='timed single-spectrum calls')
    parser.add_argument('--batch', type=int, default=32, help='spectra in the throughput batch')
    parser.add_argument('--threads', type=int, default=0, help='TensorFlow threads (0: its default)')
    args = parser.parse_args()

    t0 = time.perf_counter()
    import numpy as np
    import tensorflow as tf
    if args.threads:
        tf.config.threading.set_intra_op_parallelism_threads(args.threads)
        tf.config.threading.set_inter_op_parallelism_threads(args.threads)
    from sniascore.classify import classify, get_model, model_version
    from sniascore.commands import example_paths
    from sniascore.preprocessing import N_BINS, preprocess_spectra
    from sniascore.files import read_spectrum
    model = get_model(args.model)
    t_load = time.perf_counter() - t0

    paths = example_paths()
    if not paths:
        raise SystemExit('no example spectra (neither sniascore/examples/ nor data_dir("sedm_real"))')
    batch = [paths[i % len(paths)] for i in range(args.batch)]
    print(f'model: {model_version(model)}; {args.passes} passes; {len(paths)} distinct input files; '
          f'{os.cpu_count()} CPUs visible, load average {os.getloadavg()[0]:.1f}')
    print(f'import TensorFlow + sniascore, load model: {t_load:.1f} s')

    classify(paths[0], n_passes=args.passes, model=model)  # warm-up: traces the forward pass
    model.predict(np.zeros((1, N_BINS), np.float32), n_passes=2)  # and the redshift network's, as `sniascore watch` does
    times = []
    for k in range(args.repeats):
        t = time.perf_counter()
        classify(paths[k % len(paths)], n_passes=args.passes, model=model)
        times.append(time.perf_counter() - t)
    times = np.array(times)
    print(f'warm latency, one file (read + preprocess + classify): median {np.median(times) * 1e3:.0f} ms, '
          f'min {times.min() * 1e3:.0f} ms, max {times.max() * 1e3:.0f} ms ({args.repeats} calls)')

    for label, stop_early in (('', True), (', every pass (--all-passes)', False)):
        t = time.perf_counter()
        table = classify(batch, n_passes=args.passes, model=model, stop_early=stop_early)
        dt = time.perf_counter() - t
        scored = table["decision"] != "unscored"
        print(f'batch of {len(batch)} files{label}: {dt:.1f} s, throughput {len(batch) / dt:.2f} spectra/s '
              f'({scored.sum()} scored, {(table["decision"] == "Ia").sum()} Ia; classifier passes run: '
              f'{table.loc[scored, "passes_run"].sum()} of {scored.sum() * args.passes})')
    # the other end of the range: a batch of SNe Ia only, which need every pass and a redshift
    ia = table.loc[table['decision'] == 'Ia', 'file'].tolist()
    if ia:
        only_ia = [ia[i % len(ia)] for i in range(args.batch)]
        t = time.perf_counter()
        table_ia = classify(only_ia, n_passes=args.passes, model=model)
        dt = time.perf_counter() - t
        print(f'batch of {len(only_ia)} files, all classified Ia ({len(set(only_ia))} distinct): {dt:.1f} s, '
              f'throughput {len(only_ia) / dt:.2f} spectra/s ({(table_ia["decision"] == "Ia").sum()} Ia)')

    X = np.asarray(preprocess_spectra([read_spectrum(p) for p in batch]), np.float32)
    t = time.perf_counter()
    model.predict(X, n_passes=args.passes, seed=0)
    one_call = time.perf_counter() - t
    t = time.perf_counter()
    for i in range(len(X)):
        model.predict(X[i:i + 1], n_passes=args.passes, seed=0)
    per_spectrum = time.perf_counter() - t
    print(f'SNIascore.predict on {len(X)} spectra: one call {one_call:.1f} s, one spectrum per call '
          f'{per_spectrum:.1f} s (ratio {per_spectrum / one_call:.2f})')


if __name__ == '__main__':
    main()
