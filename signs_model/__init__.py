"""The SIGNS hand-sign assignment in TF1 graph mode on TensorFlow 2.x.

Importing the package configures TensorFlow once (quiet logs, graph mode; see
`signs_model.tfsetup`). The course's graded functions are importable from here::

    from signs_model import model, initialize_parameters, forward_propagation
"""
from . import tfsetup  # noqa: F401  (must run before anything imports TensorFlow)
from .batchnorm import batch_norm
from .data import convert_to_one_hot, load_dataset, load_signs, random_mini_batches
from .errors import SignsError
from .tutorial import (compute_cost, cost, create_placeholders, forward_propagation,
                       initialize_parameters, linear_function, model, one_hot_matrix, ones, sigmoid)

__all__ = [
    "batch_norm", "compute_cost", "convert_to_one_hot", "cost", "create_placeholders",
    "forward_propagation", "initialize_parameters", "linear_function", "load_dataset",
    "load_signs", "model", "one_hot_matrix", "ones", "random_mini_batches", "sigmoid",
    "SignsError",
]
