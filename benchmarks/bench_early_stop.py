"""Stopping MC-dropout passes early (`SNIascore.decide(stop_early=True)`): same decisions? how many passes? how fast?

    python benchmarks/bench_early_stop.py [--survey data/survey] [--splits validation test] [--model DIR]

For every spectrum of the survey's splits (default: validation and test), the shipped model decides at each preset
twice, with all 100 passes and with the early stop, in one process on the same inputs. Prints, per split and preset:
the spectra, how many decisions differ (the early stop is built so that none can), the share of the classifier's
passes run, and the seconds of each way. Reads the survey written by `sniascore-survey` (see the README); not a test.
"""
import argparse, os, time

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--survey', default='data/survey')
    parser.add_argument('--splits', nargs='+', default=['validation', 'test'])
    parser.add_argument('--model', default=None, help='model folder (default: the shipped model)')
    parser.add_argument('--passes', type=int, default=100)
    args = parser.parse_args()

    import numpy as np
    from sniascore.classify import get_model, model_version
    from sniascore.datasets import load_survey
    from sniascore.decisions import PRESETS
    from sniascore.predictions import split_arrays
    from sniascore.preprocessing import N_BINS
    model = get_model(args.model)
    survey = load_survey(args.survey)
    print(f'model: {model_version(model)}; survey {args.survey}; {args.passes} passes; {os.cpu_count()} CPUs visible')
    model.decide(np.zeros((2, N_BINS), np.float32), n_passes=args.passes)   # tracing, outside the timings
    print(f"{'split':10s} {'preset':9s} {'spectra':>7s} {'Ia (all passes)':>15s} {'decisions differ':>16s} "
          f"{'passes run':>10s} {'s, all':>7s} {'s, early':>8s}")
    for split in args.splits:
        X = split_arrays(survey, split)[0]
        for preset in PRESETS:
            t = time.perf_counter(); full = model.decide(X, preset, n_passes=args.passes, stop_early=False)
            t_full = time.perf_counter() - t
            t = time.perf_counter(); early = model.decide(X, preset, n_passes=args.passes)
            t_early = time.perf_counter() - t
            differ = int((full['passed'].to_numpy() != early['passed'].to_numpy()).sum())
            share = early['passes_run'].sum() / full['passes_run'].sum()
            print(f'{split:10s} {preset:9s} {len(X):7d} {int(full["passed"].sum()):15d} {differ:16d} '
                  f'{share:10.1%} {t_full:7.1f} {t_early:8.1f}')


if __name__ == '__main__':
    main()
