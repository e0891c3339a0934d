"""Write the regressor's training arrays (the survey's redshift-augmented SNe Ia, exactly what `sniascore-train`
builds with the same seed) to an .npz, so that a machine without the survey or its data can train on them.

usage: python scripts/gpu/export_arrays.py data/survey regressor_train.npz"""
import sys

import numpy as np

from sniascore.datasets import load_survey
from sniascore.trainrun import survey_arrays

survey_dir, out = sys.argv[1], sys.argv[2]
arrays = survey_arrays(load_survey(survey_dir), seed=0)["train_z"]
np.savez(out, X=arrays["X"], z=arrays["z"])
print(f"{out}: {arrays['X'].shape[0]} spectra from {arrays['n_unique']} training-split SNe Ia")
