"""Tests of sniascore.model, sniascore.metrics and the training modules (training, selection, modelcard, trainrun) that notebooks show less well:
serialization round trips, checksum failures, brute-force checks of the cut search, resuming, the CLI."""
import json
import os
import shutil
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st

from sniascore.metrics import apply_cut, counts_at_fpr, cut_search, operating_point, redshift_metrics, roc_envelope

N_BINS = 209
SMALL = dict(layers=("bilstm", "gru"), units=4, dropouts=(0.4, 0.3, 0.2))


def test_import_is_light():
    "`import sniascore` and `sniascore.metrics` must not load TensorFlow/Keras."
    import subprocess
    code = "import sys, sniascore, sniascore.metrics; print('keras' in sys.modules or 'tensorflow' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "False"


# ---------------------------------------------------------------- metrics
@settings(max_examples=40, deadline=None)
@given(st.data())
def test_cut_search_matches_brute_force(data):
    n = data.draw(st.integers(2, 40))
    score = np.array(data.draw(st.lists(st.integers(0, 20), min_size=n, max_size=n))) / 20
    sigma = np.array(data.draw(st.lists(st.integers(0, 10), min_size=n, max_size=n))) / 50
    is_ia = np.array(data.draw(st.lists(st.booleans(), min_size=n, max_size=n)))
    cuts = cut_search(score, sigma, is_ia)
    assert len(cuts) == len(np.unique(score)) * len(np.unique(sigma))
    for row in cuts.itertuples():
        sel = apply_cut(score, sigma, dict(min_score=row.min_score, max_sigma=row.max_sigma))
        assert row.tp == (sel & is_ia).sum() and row.fp == (sel & ~is_ia).sum()
    n0, n1 = counts_at_fpr(score, sigma, is_ia, (0.0, 0.2))
    n_neg = (~is_ia).sum()
    assert n0 == cuts[cuts.fp == 0].tp.max(skipna=True) if (cuts.fp == 0).any() else n0 == 0
    limit = int(np.floor(0.2 * n_neg + 1e-9))
    assert n1 == cuts[cuts.fp <= limit].tp.max() if (cuts.fp <= limit).any() else n1 == 0
    op = operating_point(score, sigma, is_ia, 0.0)
    assert op["fp"] == 0 and op["tp"] == n0
    roc = roc_envelope(score, sigma, is_ia)
    assert np.all(np.diff(roc.tpr) >= 0) and len(roc) == n_neg + 1


def test_cut_search_grid_and_errors():
    rng = np.random.default_rng(0)
    score, sigma, is_ia = rng.uniform(size=500), rng.uniform(0, 0.2, 500), rng.integers(0, 2, 500)
    assert len(cut_search(score, sigma, is_ia, grid=20)) <= 400
    with pytest.raises(ValueError):
        cut_search(score[:10], sigma, is_ia)
    with pytest.raises(ValueError):
        cut_search(np.r_[score[:9], np.nan], sigma[:10], is_ia[:10])


def test_operating_point_prefers_tightest_cut():
    score = np.array([0.9, 0.8, 0.1])
    sigma = np.array([0.01, 0.01, 0.01])
    op = operating_point(score, sigma, np.array([1, 1, 0]), 0.0)
    assert (op["min_score"], op["max_sigma"], op["tp"]) == (0.8, 0.01, 2)


def test_redshift_metrics():
    z = np.linspace(0.01, 0.1, 20)
    m = redshift_metrics(z + 0.001, z)
    assert m["frac_005"] == 1 and abs(m["resid_mean"] - 0.001) < 1e-12 and abs(m["slope"] - 1) < 1e-9
    with pytest.raises(ValueError):
        redshift_metrics(z[:5], z)


# ---------------------------------------------------------------- model
@pytest.fixture(scope="module")
def keras_models():
    import keras
    from sniascore.model import build_classifier, build_regressor
    keras.utils.set_random_seed(0)
    return build_classifier(**SMALL), build_regressor(**SMALL)


def test_default_architecture():
    from sniascore.model import build_classifier, MCDropout
    model = build_classifier()
    assert 30_000 < model.count_params() < 40_000
    rates = [layer.rate for layer in model.layers if isinstance(layer, MCDropout)]
    assert rates == [0.40, 0.45, 0.35, 0.25]
    kinds = [layer.__class__.__name__ for layer in model.layers]
    assert kinds.count("Bidirectional") == 2 and kinds.count("GRU") == 1


def test_mc_dropout_active_in_predict(keras_models):
    clf, _ = keras_models
    X = np.random.default_rng(0).normal(0, 0.3, (3, N_BINS, 1)).astype("float32")
    assert not np.array_equal(clf.predict(X, verbose=0), clf.predict(X, verbose=0))


def test_loss_value_and_gradient():
    import tensorflow as tf
    from sniascore.model import mbe_mae_loss
    rng = np.random.default_rng(3)
    y = tf.constant(rng.uniform(0, 0.1, 32), tf.float32)
    p = tf.Variable(rng.uniform(0, 0.1, (32, 1)), dtype=tf.float32)
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(mbe_mae_loss(y, p))
    err = p.numpy().ravel() - y.numpy()
    assert abs(float(loss) - abs(err.mean())) < 1e-6
    np.testing.assert_allclose(tape.gradient(loss, p).numpy().ravel(), np.sign(err) / 32, atol=1e-8)


def test_mc_predict_seeded_and_batch_independent_of_state(keras_models):
    from sniascore.model import mc_predict
    clf, reg = keras_models
    X = np.random.default_rng(1).normal(0, 0.3, (7, N_BINS)).astype("float32")
    a = mc_predict(clf, X, n_passes=12, seed=5)
    clf.predict(X[..., None], verbose=0)  # advances the layers' own random stream
    b = mc_predict(clf, X, n_passes=12, seed=5)
    assert all(np.array_equal(u, v) for u, v in zip(a, b))
    # small max_rows: several compiled calls, still deterministic
    c = mc_predict(clf, X, n_passes=12, seed=5, max_rows=24)
    d = mc_predict(clf, X, n_passes=12, seed=5, max_rows=24)
    assert np.array_equal(c[0], d[0])
    z, z_err = mc_predict(reg, X, n_passes=12)
    assert z.shape == (7,) and (z_err > 0).all()
    with pytest.raises(ValueError):
        mc_predict(clf, X, n_passes=1)
    with pytest.raises(ValueError):
        mc_predict(clf, np.full((2, N_BINS), np.nan))


def _write_models(tmp_path, clf, reg):
    from sniascore.model import sha256_file
    clf.save(tmp_path / "classifier.keras")
    reg.save(tmp_path / "regressor.keras")
    card = dict(checksums={f: sha256_file(tmp_path / f) for f in ("classifier.keras", "regressor.keras")},
                operating_points=dict(strict=dict(min_score=0.9, max_sigma=0.05),
                                      balanced=dict(min_score=0.5, max_sigma=0.2)))
    (tmp_path / "model_card.json").write_text(json.dumps(card))


def test_save_load_round_trip(tmp_path, keras_models):
    from sniascore.model import load, mc_predict
    clf, reg = keras_models
    _write_models(tmp_path, clf, reg)
    snia = load(tmp_path)
    X = np.random.default_rng(2).normal(0, 0.3, (4, N_BINS)).astype("float32")
    pred = snia.predict(X, n_passes=10, seed=1)
    assert list(pred.columns) == ["score", "score_err", "z", "z_err"]
    np.testing.assert_array_equal(pred.score, mc_predict(clf, X, n_passes=10, seed=1)[0])
    np.testing.assert_array_equal(pred.z, mc_predict(reg, X, n_passes=10, seed=1)[0])
    assert set(snia.operating_points) == {"strict", "balanced"}
    assert snia.accept(pred, "strict").dtype == bool
    with pytest.raises(ValueError):
        snia.accept(pred, "loose")


@pytest.mark.parametrize("damage", ["truncate", "swap", "missing", "card"])
def test_load_rejects_bad_files(tmp_path, keras_models, damage):
    from sniascore.model import ModelError, load
    _write_models(tmp_path, *keras_models)
    clf_file = tmp_path / "classifier.keras"
    if damage == "truncate":
        clf_file.write_bytes(clf_file.read_bytes()[:-100])
    elif damage == "swap":
        clf_file.write_bytes((tmp_path / "regressor.keras").read_bytes())
    elif damage == "missing":
        clf_file.unlink()
    else:
        (tmp_path / "model_card.json").write_text("{not json")
    with pytest.raises(ModelError):
        load(tmp_path)


def test_load_missing_directory(tmp_path):
    from sniascore.model import ModelError, load
    with pytest.raises(ModelError, match="sniascore-train"):
        load(tmp_path / "none")


# ---------------------------------------------------------------- training
def _random_data(n, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(0, 0.3, (n, N_BINS)).astype("float32")
    y = rng.integers(0, 2, n)
    X[y == 1, 80:90] -= 1
    return X, y


def test_resume_reproduces_uninterrupted_run(tmp_path):
    import keras
    from sniascore.training import load_epoch, saved_epochs, train_network
    X, y = _random_data(300)
    kw = dict(arch=SMALL, batch_size=100, verbose=False)
    train_network("regressor", X, y * 0.05 + 0.02, tmp_path / "a", epochs=4, **kw)
    train_network("regressor", X, y * 0.05 + 0.02, tmp_path / "b", epochs=2, **kw)
    keras.backend.clear_session()
    train_network("regressor", X, y * 0.05 + 0.02, tmp_path / "b", epochs=4, **kw)
    assert saved_epochs(tmp_path / "b") == [1, 2, 3, 4]
    for wa, wb in zip(load_epoch(tmp_path / "a", 4).weights, load_epoch(tmp_path / "b", 4).weights):
        np.testing.assert_array_equal(wa.numpy(), wb.numpy())
    history = pd.read_csv(tmp_path / "b" / "history.csv")
    assert history.epoch.tolist() == [1, 2, 3, 4]
    with pytest.raises(ValueError, match="different configuration"):
        train_network("regressor", X, y * 0.05, tmp_path / "b", epochs=4, arch=dict(units=8), batch_size=100,
                      verbose=False)


def test_precise_redshift():
    "The regressor trains only on redshifts known to three decimals (section 2)."
    from sniascore.augmentation import precise_redshift
    assert precise_redshift([0.05, 0.053, np.nan, 0.1234, -1]).tolist() == [False, True, False, True, False]


def _fake_survey(monkeypatch):
    "Make `sniascore-train` read a fake survey (random arrays, the same at every call); returns the training module."
    import sniascore.trainrun as training

    def fake_arrays(survey, directory=None, seed=0, **kw):
        rng = np.random.default_rng(seed)  # same data at every call, as from a real survey
        def split(n):
            X, y = _random_data(n, int(rng.integers(1000)))
            return dict(X=X, is_ia=y, z=rng.uniform(0.01, 0.1, n))
        data = dict(train=split(256), validation=split(60), test=split(60))
        data["train_z"] = dict(X=data["train"]["X"], z=data["train"]["z"], n_unique=256)
        return data

    class FakeSurvey:
        catalog = pd.DataFrame(dict(seed=[0, 0]))

    fake_datasets = type(sys)("sniascore.datasets")
    fake_datasets.load_survey = lambda directory: FakeSurvey()
    fake_datasets.catalog_sha256 = lambda catalog: "0" * 64
    monkeypatch.setitem(sys.modules, "sniascore.datasets", fake_datasets)
    monkeypatch.setattr(training, "survey_arrays", fake_arrays)
    return training


def test_train_cli_end_to_end(tmp_path, monkeypatch):
    "The console script on a fake survey: trains, selects, ships a loadable model with a generated card."
    from sniascore.model import load
    training = _fake_survey(monkeypatch)
    models = tmp_path / "models"
    argv = ["--survey", str(tmp_path), "--out", str(tmp_path / "run"), "--epochs-classifier", "2",
            "--epochs-regressor", "2", "--select-passes", "3", "--final-passes", "4", "--arch", json.dumps(SMALL),
            "--ship", "--models-dir", str(models)]
    training.train_cli(argv)
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert set(summary["selected"]) == {"classifier", "regressor"}
    snia = load(models)
    assert set(snia.operating_points) == {"strict", "balanced"}
    card = snia.card
    for key in ("dataset", "schedule", "selected_epochs", "validation", "test", "versions", "checksums"):
        assert key in card
    assert (models / "MODEL_CARD.md").read_text().startswith("# Model card")
    assert (tmp_path / "run" / "selection.png").exists()
    # re-running resumes: nothing is retrained
    training.train_cli(argv[:-3])
    summary2 = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary2["selected"] == summary["selected"]


def _train_args(tmp_path, epochs: int) -> list:
    "`sniascore-train` arguments for the fake survey: `epochs` of each network, 3 scan passes, 4 final passes."
    return ["--survey", str(tmp_path), "--epochs-classifier", str(epochs), "--epochs-regressor", str(epochs),
            "--select-passes", "3", "--final-passes", "4", "--arch", json.dumps(SMALL)]


def _same_weights(training, run_a, run_b, task: str, epoch: int) -> bool:
    from sniascore.training import load_epoch
    a, b = (load_epoch(run / task, epoch).get_weights() for run in (run_a, run_b))
    return all(np.array_equal(u, v) for u, v in zip(a, b))


def test_train_cli_only_then_select(tmp_path, monkeypatch):
    "--only trains one network and stops; the plain command then trains nothing more; weights as in one process."
    training = _fake_survey(monkeypatch)
    common = _train_args(tmp_path, 2)
    split, whole = tmp_path / "split", tmp_path / "whole"
    for task in ("classifier", "regressor"):
        training.train_cli(common + ["--out", str(split), "--only", task])
    assert not (split / "summary.json").exists()  # --only stops after training
    assert len(pd.read_csv(split / "classifier" / "history.csv")) == 2
    training.train_cli(common + ["--out", str(split)])
    assert len(pd.read_csv(split / "regressor" / "history.csv")) == 2  # nothing retrained
    training.train_cli(common + ["--out", str(whole)])
    assert json.loads((split / "summary.json").read_text())["selected"] == \
        json.loads((whole / "summary.json").read_text())["selected"]
    for task in ("classifier", "regressor"):
        assert _same_weights(training, split, whole, task, 2)


def test_train_cli_prune_keeps_selection(tmp_path, monkeypatch):
    "--prune deletes the weights the selection can never pick; the selection and the shipped card stay the same."
    training = _fake_survey(monkeypatch)
    common = _train_args(tmp_path, 4)
    run, copy = tmp_path / "run", tmp_path / "copy"
    training.train_cli(common + ["--out", str(run)])
    shutil.copytree(run, copy)
    training.train_cli(common + ["--out", str(run), "--prune"])
    for task in ("classifier", "regressor"):
        kept = training.saved_epochs(run / task)
        assert 4 in kept and len(kept) < 4 and (run / task / "pruned.json").exists()
        for epoch in kept:  # the kept weights are unchanged (the earlier ones rewritten without optimizer state)
            assert _same_weights(training, run, copy, task, epoch)
    before = json.loads((copy / "summary.json").read_text())
    training.train_cli(common + ["--out", str(run)])  # selection again, on the pruned run
    after = json.loads((run / "summary.json").read_text())
    for key in ("selected", "operating_points", "validation", "test"):
        assert after[key] == before[key]
    training.train_cli(common + ["--out", str(tmp_path / "empty"), "--prune"])  # no run there: nothing to prune
    assert not (tmp_path / "empty" / "classifier" / "pruned.json").exists()
    with pytest.raises(ValueError, match="pruned"):
        training.train_cli([a if a != "3" else "5" for a in common] + ["--out", str(run)])  # 5 scan passes, not 3
