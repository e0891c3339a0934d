"""Speed of the SNIascore networks: training seconds per epoch and MC-dropout prediction throughput.

Usage: python benchmarks/bench_model.py [--train-epochs 1] [--n-classifier 3500] [--n-regressor 12800]
                                        [--batches 1,50,1000] [--passes 100] [--threads 0] [--skip-train]

Training uses synthetic arrays of the paper's sizes (about 3,500 classifier and 12,800 augmented regressor
spectra) with the section 4.1 schedule. Prediction uses the shipped models when `sniascore/models/` holds
them, otherwise freshly built (untrained) networks of the same architecture: speed does not depend on
the weights. Targets (issue): < 0.5 s per spectrum warm, >= 20 spectra/s in batches (both networks,
100 passes each).
"""
import argparse
import os
import platform
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--train-epochs", type=int, default=1)
    p.add_argument("--n-classifier", type=int, default=3500)
    p.add_argument("--n-regressor", type=int, default=12800)
    p.add_argument("--batches", default="1,50,1000")
    p.add_argument("--passes", type=int, default=100)
    p.add_argument("--threads", type=int, default=0, help="TF intra/inter-op threads (0: TF default)")
    p.add_argument("--skip-train", action="store_true")
    args = p.parse_args(argv)

    import tensorflow as tf
    if args.threads:
        tf.config.threading.set_intra_op_parallelism_threads(args.threads)
        tf.config.threading.set_inter_op_parallelism_threads(args.threads)
    import keras
    from sniascore.model import ModelError, build_classifier, build_regressor, load, mc_predict, N_BINS
    from sniascore.training import TRAINING_DEFAULTS, compile_model, fit_epochs

    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
          f"GPUs: {len(tf.config.list_physical_devices('GPU'))}, TF {tf.__version__}, Keras {keras.__version__}")
    rng = np.random.default_rng(0)

    if not args.skip_train:
        for task, n in (("classifier", args.n_classifier), ("regressor", args.n_regressor)):
            X = rng.normal(0, 0.3, (n, N_BINS)).astype("float32")
            y = rng.integers(0, 2, n) if task == "classifier" else rng.uniform(0.01, 0.13, n)
            keras.utils.set_random_seed(0)
            model = compile_model((build_classifier if task == "classifier" else build_regressor)(), task,
                                  **TRAINING_DEFAULTS)
            with tempfile.TemporaryDirectory() as tmp:
                # the first epoch includes tracing; report it and the mean of the others separately
                history = fit_epochs(model, X, y, tmp, args.train_epochs + 1, TRAINING_DEFAULTS["batch_size"],
                                     verbose=False)
            first, rest = history.seconds.iloc[0], history.seconds.iloc[1:].mean()
            print(f"train {task}: {n} spectra, batch {TRAINING_DEFAULTS['batch_size']}: first epoch {first:.1f} s, "
                  f"then {rest:.1f} s/epoch -> {rest * (325 if task == 'classifier' else 525) / 3600:.1f} h "
                  f"for {325 if task == 'classifier' else 525} epochs", flush=True)

    try:
        snia = load()
        classifier, regressor, which = snia.classifier, snia.regressor, "shipped models"
    except ModelError:
        keras.utils.set_random_seed(0)
        classifier, regressor, which = build_classifier(), build_regressor(), "untrained networks (no shipped model)"
    print(f"prediction with {which}, {args.passes} MC passes per network")
    X = rng.normal(0, 0.3, (max(int(b) for b in args.batches.split(",")), N_BINS)).astype("float32")
    for model in (classifier, regressor):
        mc_predict(model, X[:2], n_passes=args.passes)  # trace once
    for batch in (int(b) for b in args.batches.split(",")):
        t0 = time.perf_counter()
        mc_predict(classifier, X[:batch], n_passes=args.passes)
        t1 = time.perf_counter()
        mc_predict(regressor, X[:batch], n_passes=args.passes)
        t2 = time.perf_counter()
        label = "one spectrum, warm" if batch == 1 else f"batch of {batch}"
        print(f"MC predict {label}: classifier {t1 - t0:.2f} s, regressor {t2 - t1:.2f} s, both {t2 - t0:.2f} s "
              f"= {(t2 - t0) / batch:.3f} s/spectrum, {batch / (t2 - t0):.1f} spectra/s", flush=True)


if __name__ == "__main__":
    main()
