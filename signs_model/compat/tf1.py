"""TensorFlow 1.x for course code: ``import signs_model.tf1 as tf``.

Gives the whole ``tf.compat.v1`` namespace in graph mode (``tf.placeholder``,
``tf.Session``, ``tf.get_variable``, ``tf.train.AdamOptimizer``, ...) plus
``tf.contrib.layers`` as the deeplearning.ai courses used it
(`signs_model.contrib`). A notebook written for TF 1.x runs with its import
line changed::

    import signs_model.tf1 as tf          # was: import tensorflow as tf

    W1 = tf.get_variable("W1", [25, 12288],
                         initializer=tf.contrib.layers.xavier_initializer(seed=1))

Importing it configures TensorFlow as the package does (quiet logs, graph mode;
`signs_model.tfsetup`). Nothing is added to the real ``tensorflow`` module:
``tensorflow.compat.v1`` still has no ``contrib``.
"""
from . import contrib as _contrib  # importing the package also configures TensorFlow
from ..tfsetup import _tf

_v1 = _tf.compat.v1
contrib = _contrib  # tf.contrib: the one attribute that is not tf.compat.v1's


def __getattr__(name):
    return getattr(_v1, name)


def __dir__():
    return sorted(set(dir(_v1)) | {"contrib"})
