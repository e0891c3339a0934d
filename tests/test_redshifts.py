"The model card's redshift table is what notebook 09 computes from the predictions cache."
import json

import numpy as np
import pytest


def test_card_redshift_table_is_current():
    from sniascore.model import MODELS_DIR
    from sniascore.predictions import load_predictions, repo_root
    from sniascore.redshifts import CARD_KEY, card_redshifts
    card = json.loads((MODELS_DIR / 'model_card.json').read_text())
    stored = card[CARD_KEY]
    predictions, _ = load_predictions(repo_root() / 'nbs' / 'cache' / 'predictions.ecsv')
    now = card_redshifts(predictions, card['operating_points']['strict'], stored['n_boot'], stored['seed'])[CARD_KEY]
    assert [(r['split'], r['subset']) for r in now['rows']] == [(r['split'], r['subset']) for r in stored['rows']]
    for a, b in zip(now['rows'], stored['rows']):
        for k, v in b.items():
            if isinstance(v, float): assert a[k] == pytest.approx(v, rel=1e-12, abs=1e-15), (b['split'], b['subset'], k)
            else: assert a[k] == v, k
    assert '| test | strict-cut SNe Ia |' in (MODELS_DIR / 'MODEL_CARD.md').read_text()


def test_recipe_cache_holds_the_shipped_regressors():
    "In nbs/cache/regressor_recipes*.csv the 'band' run is the default's regressor (selected epoch, redshifts) and 'paper' the paper model's."
    import pandas as pd
    from sniascore.model import MODELS_DIR
    from sniascore.predictions import load_predictions, repo_root
    card = json.loads((MODELS_DIR / 'model_card.json').read_text())
    paper_card = json.loads((MODELS_DIR / 'paper' / 'model_card.json').read_text())
    table = pd.read_csv(repo_root() / 'nbs' / 'cache' / 'regressor_recipes.csv')
    selected = table[table.selected].set_index('run').epoch
    assert selected['band'] == card['selected_epochs']['regressor']
    assert selected['paper'] == paper_card['selected_epochs']['regressor']
    z = pd.read_csv(repo_root() / 'nbs' / 'cache' / 'regressor_recipes_z.csv')
    predictions, _ = load_predictions(repo_root() / 'nbs' / 'cache' / 'predictions.ecsv')
    p = predictions.set_index('spectrum_id').loc[z.spectrum_id]
    np.testing.assert_allclose(z.z_band, p.z_pred, atol=1e-6)
    np.testing.assert_allclose(z.z_pred, p.z_pred, atol=1e-6)
