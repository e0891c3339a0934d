"""Write the regressor's training arrays (the survey's redshift-augmented SNe Ia, exactly what `sniascore-train`
builds with the same seed and the augmentation the run's `config.json` records) to an .npz, so that a machine without
the survey or its data can train on them.

usage: python scripts/gpu/export_arrays.py data/survey regressor_train.npz [RUN_DIR]   (default runs/shipped/regressor)"""
import json
import sys
from pathlib import Path

import numpy as np

from sniascore.datasets import load_survey
from sniascore.trainrun import survey_arrays

survey_dir, out = sys.argv[1], sys.argv[2]
run_dir = Path(sys.argv[3] if len(sys.argv) > 3 else 'runs/shipped/regressor')
# the run's own record, so the arrays are the ones it trained on (e.g. the mid-band noise of the default's regressor)
augment = json.loads((run_dir / 'config.json').read_text()).get('data', {}).get('augmentation', {})
arrays = survey_arrays(load_survey(survey_dir), seed=0, **augment)["train_z"]
np.savez(out, X=arrays["X"], z=arrays["z"])
print(f"{out}: {arrays['X'].shape[0]} spectra from {arrays['n_unique']} training-split SNe Ia, augmentation {augment or 'as the paper'}")
