"""Drop-in replacement for the course's ``tf_utils.py``, running on TensorFlow 2.x.

Same names, arguments and results as the course helper; the work is done by the
`signs_model` package (imported here, which also switches TensorFlow to TF1
graph mode). ``load_dataset`` reads ``datasets/`` by default, like the course,
or ``$SIGNS_DATA_DIR``, or the folder given as its argument.

``import tf_utils`` finds it through the top-level ``tf_utils.py``; ``signs port``
points course code at ``signs_model.tf_utils``, so that a course folder's own
(TF 1.x) ``tf_utils.py`` beside the notebook is not the one imported.
"""
import math

import h5py
import numpy as np

from . import tf1 as tf
from ..data import convert_to_one_hot, load_dataset, random_mini_batches
from ..predict import forward_propagation_for_predict, predict

# ``from tf_utils import *`` also gave the course helper's own imports (tf: TF 1.x's namespace)
__all__ = ["load_dataset", "random_mini_batches", "convert_to_one_hot", "predict",
           "forward_propagation_for_predict", "math", "np", "h5py", "tf"]
