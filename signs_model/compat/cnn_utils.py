"""Drop-in replacement for the course's ``cnn_utils.py`` (course 4 week 1, "Convolution model -
Application"), running on TensorFlow 2.x.

It differs from ``tf_utils`` in one function: ``random_mini_batches`` takes
examples first, ``X`` of shape (m, 64, 64, 3) and ``Y`` of shape (m, C), as the
convolution assignment feeds them. ``predict`` and ``forward_propagation_for_predict``
are the three-layer dense network's, as in the course's copy of the helper.

The course notebook imports it with ``from cnn_utils import *``, which also gave
it the helper's own imports; they are exported here too (``tf`` is `signs_model.tf1`)::

    from signs_model.cnn_utils import *
    X_train_orig, Y_train_orig, X_test_orig, Y_test_orig, classes = load_dataset()
"""
import math

import h5py
import numpy as np
from tensorflow.python.framework import ops

from . import tf1 as tf
from ..data import convert_to_one_hot, load_dataset
from ..errors import SignsError
from ..predict import forward_propagation_for_predict, predict

__all__ = ["load_dataset", "random_mini_batches", "convert_to_one_hot", "predict",
           "forward_propagation_for_predict", "math", "np", "h5py", "tf", "ops"]


def random_mini_batches(X, Y, mini_batch_size=64, seed=0):
    """Shuffle the examples (first axis) of X and Y with ``seed`` and cut them into minibatches.

    Like the course, it reseeds NumPy's global generator, so the order is the one
    ``np.random.seed(seed); np.random.permutation(m)`` gives. The last minibatch
    holds the remaining ``m % mini_batch_size`` examples.

    Args:
        X: (m, n_H, n_W, n_C) images; Y: (m, n_y) labels.
    Returns:
        list of (mini_batch_X (b, n_H, n_W, n_C), mini_batch_Y (b, n_y)).
    """
    X, Y = np.asarray(X), np.asarray(Y)
    if X.shape[0] != Y.shape[0]:
        raise SignsError(f"X has {X.shape[0]} examples and Y {Y.shape[0]}; expected examples "
                         f"first in both, X (m, 64, 64, 3) and Y (m, C)", argument="Y")
    m = X.shape[0]
    np.random.seed(seed)
    order = np.random.permutation(m)
    X, Y = X[order], Y[order]
    return [(X[k:k + mini_batch_size], Y[k:k + mini_batch_size])
            for k in range(0, mini_batch_size * math.ceil(m / mini_batch_size), mini_batch_size)]
