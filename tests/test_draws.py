"""Fresh draws (sniascore.draws): deterministic in (seed, epoch, index), and a resumed run sees what an uninterrupted one sees."""
import numpy as np
import pytest


@pytest.fixture(scope='module')
def tiny(needs_data):
    "A few training templates of every class, with the bank, priors and template splits (no survey simulated)."
    needs_data('templates'); needs_data('surveys')
    from sniascore.template_bank import load_bank
    from sniascore.priors import load_priors
    from sniascore.catalog import make_catalog
    bank, priors = load_bank(), load_priors()
    catalog, splits = make_catalog(bank, priors, seed=0, scale=0.02)
    return catalog[catalog.split == 'train'].groupby('cls').head(3), splits, bank, priors


def _source(tiny, **kw):
    from sniascore.draws import FreshDraws
    cat, splits, bank, priors = tiny
    return FreshDraws(cat, splits, bank, priors, batch_size=8, seed=7, **kw)


def _epoch_batches(ds, adapter=False):
    "Every batch of the current epoch as Keras's fit gets them (through the adapter) or by index; then the epoch ends."
    if adapter:
        from keras.src.trainers.data_adapters.py_dataset_adapter import PyDatasetAdapter
        ad = PyDatasetAdapter(ds)
        ad.on_epoch_begin()
        out = [tuple(np.asarray(a) for a in b) for b in ad.get_numpy_iterator()]
        ad.on_epoch_end()
        return out
    ds.on_epoch_begin()
    out = [ds[b] for b in range(len(ds))]
    ds.on_epoch_end()
    return out


def _same(a, b):
    assert len(a) == len(b)
    for (xa, ya), (xb, yb) in zip(a, b):
        np.testing.assert_array_equal(xa, xb)
        np.testing.assert_array_equal(ya, yb)


def test_same_seed_epoch_index_same_arrays(tiny):
    a, b = _source(tiny, hard_negatives=True, cap=1, types=('IIb',), young_fraction=0.2), \
        _source(tiny, hard_negatives=True, cap=1, types=('IIb',), young_fraction=0.2)
    _same([a[k] for k in range(len(a))], [b[k] for k in reversed(range(len(b)))][::-1])
    x0, d0 = a.example(2)
    x1, d1 = a.example(2, epoch=1)
    assert not np.array_equal(x0, x1) and d0['z'] != d1['z']
    c = _source(tiny, hard_negatives=True, cap=1, types=('IIb',), young_fraction=0.2)
    c.seed = 8
    c.set_epoch(0)
    assert not np.array_equal(a[0][0], c[0][0])            # another seed, other draws


def test_resume_equals_uninterrupted(tiny):
    run = _source(tiny, hard_negatives=True, cap=2, types=('Ic',))
    seen = [_epoch_batches(run, adapter=True) for _ in range(3)]   # epochs 0, 1, 2 as fit runs them
    assert run.epoch == 3
    resumed = _source(tiny, hard_negatives=True, cap=2, types=('Ic',), epoch=2)   # restarted after epoch 1
    _same(seen[2], _epoch_batches(resumed, adapter=True))
    threads = _source(tiny, hard_negatives=True, cap=2, types=('Ic',), epoch=1, workers=2)
    _same(seen[1], _epoch_batches(threads, adapter=True))          # worker threads: the same batches
    assert not np.array_equal(seen[0][0][0], seen[1][0][0])


def test_fit_advances_the_epoch(tiny):
    import keras
    ds = _source(tiny)
    model = keras.Sequential([keras.Input((209, 1)), keras.layers.Flatten(), keras.layers.Dense(2, activation='softmax')])
    model.compile(optimizer='sgd', loss='sparse_categorical_crossentropy')
    model.fit(ds, epochs=2, shuffle=False, verbose=0)
    assert ds.epoch == 2                     # once per epoch (Keras's extra on_epoch_end at the start of fit moves nothing)
    ds.on_epoch_end()
    assert ds.epoch == 2


def test_labels_and_cap(tiny):
    ds = _source(tiny, hard_negatives=True, cap=2, young_fraction=0.1)
    for e in range(3):
        ds.set_epoch(e)
        hn = ds.plan[ds.plan.origin == 'hard_negative']
        assert hn.groupby('group').size().max() <= 2
        x, y = ds[0]
        rows = ds.batch_rows(0)
        np.testing.assert_array_equal(y, (ds.plan.cls.to_numpy()[rows] == 'SNIa').astype(int))


def test_worker_processes_see_the_epoch(tiny):
    "Batches made in forked worker processes equal those made in the main process, in the second epoch too."
    by_index = _source(tiny, epoch=1)
    expected = _epoch_batches(by_index)
    procs = _source(tiny, workers=2, use_multiprocessing=True)
    _epoch_batches(procs, adapter=True)                    # epoch 0 in the workers; the epoch moves to 1
    assert procs.epoch == 1
    _same(expected, _epoch_batches(procs, adapter=True))


def test_fresh_draw_training_resumes_exactly(tiny, tmp_path):
    "sniascore.training.train_network on fresh draws: same seed, same weights; a resumed run equals an uninterrupted one."
    import keras
    from sniascore.training import load_epoch, train_network
    small = dict(layers=('bilstm', 'gru'), units=4, dropouts=(0.4, 0.3, 0.2))
    kw = dict(arch=small, batch_size=8, verbose=False)
    train_network('classifier', _source(tiny), None, tmp_path / 'a', epochs=2, **kw)
    train_network('classifier', _source(tiny), None, tmp_path / 'b', epochs=1, **kw)
    keras.backend.clear_session()
    train_network('classifier', _source(tiny), None, tmp_path / 'b', epochs=2, **kw)
    train_network('classifier', _source(tiny), None, tmp_path / 'c', epochs=2, **kw)
    for other in ('b', 'c'):
        for wa, wb in zip(load_epoch(tmp_path / 'a', 2).weights, load_epoch(tmp_path / other, 2).weights):
            np.testing.assert_array_equal(wa.numpy(), wb.numpy())


def test_widened_draws_are_deterministic_and_keep_the_nominal_draws(tiny):
    "Domain randomisation (`widen`): same (seed, epoch, index), same arrays; redshift and S/N as without it, never less host light."
    from sniascore.draws import WIDENING
    a, b = _source(tiny, widen=WIDENING), _source(tiny, widen=WIDENING)
    _same([a[k] for k in range(len(a))], [b[k] for k in range(len(b))])
    plain = _source(tiny)
    wide, nominal = a.batch_table(0), plain.batch_table(0)
    assert (wide.z_drawn == nominal.z_drawn).all() and (wide.snr_drawn == nominal.snr_drawn).all()
    assert (wide.host_fraction_drawn >= nominal.host_fraction_drawn).all()
    assert (wide.host_fraction_drawn[~wide.has_host.astype(bool)] == 0).all()
    assert not np.array_equal(a[0][0], plain[0][0])
    assert a.describe()['widen'] == WIDENING and 'widen' not in plain.describe()
