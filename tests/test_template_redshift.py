"The template-matching cache of notebook 09b belongs to the predictions cache and the shipped model's strict cut."
import json

import numpy as np
import pandas as pd


def test_cache_is_of_the_current_predictions():
    from sniascore.metrics import apply_cut
    from sniascore.model import MODELS_DIR
    from sniascore.predictions import load_predictions, repo_root
    from sniascore.template_redshift import CACHE, RULES
    table = pd.read_csv(repo_root() / 'nbs' / 'cache' / CACHE)
    predictions, _ = load_predictions(repo_root() / 'nbs' / 'cache' / 'predictions.ecsv')
    ia = predictions[predictions.is_ia.astype(bool) & predictions.split.isin(['validation', 'test'])]
    assert sorted(table.spectrum_id) == sorted(ia.spectrum_id)          # every SN Ia of both splits, nothing else
    p = ia.set_index('spectrum_id').loc[table.spectrum_id]
    np.testing.assert_allclose(table.z, p.z, atol=1e-6)
    np.testing.assert_allclose(table.z_pred, p.z_pred, atol=1e-6)
    strict = json.loads((MODELS_DIR / 'model_card.json').read_text())['operating_points']['strict']
    assert (table.strict.astype(bool).to_numpy() == apply_cut(p.score, p.score_err, strict)).all()
    assert [c for c in table.columns if c.startswith('z_') and c != 'z_pred'] == [f'z_{r}' for r in RULES]
