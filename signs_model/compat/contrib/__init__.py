"""The parts of TF 1.x's ``tf.contrib`` that the deeplearning.ai courses used, on TensorFlow 2.

TensorFlow 2 removed ``tf.contrib``. ``signs_model.tf1`` puts this package in
its place, so course code written for TF 1.x runs unchanged::

    import signs_model.tf1 as tf
    W1 = tf.get_variable("W1", [25, 12288],
                         initializer=tf.contrib.layers.xavier_initializer(seed=1))

Only ``tf.contrib.layers`` is provided (see `signs_model.contrib.layers`).
Anything else under ``tf.contrib`` raises `ContribError`, one line naming
what TensorFlow 2 offers instead.
"""
from ...errors import SignsError
from .layers import __all__ as PROVIDED  # importing it makes tf.contrib.layers

# What TF 2 offers in place of the tf.contrib parts this package does not provide.
REPLACEMENTS = {
    "contrib.slim": "tf_slim (pip install tf-slim), or tf.get_variable and tf.nn ops",
    "contrib.learn": "a tf.Session training loop as in the course (tf.estimator is gone too)",
    "contrib.rnn": "tf.nn.rnn_cell (BasicLSTMCell, GRUCell, MultiRNNCell) and tf.nn.dynamic_rnn, "
                   "which need Keras 2: pip install tf-keras and set TF_USE_LEGACY_KERAS=1",
    "contrib.keras": "tf.keras",
    "contrib.data": "tf.data",
    "contrib.distributions": "tensorflow_probability.distributions",
    "contrib.opt": "tf.train optimizers, or tensorflow_addons.optimizers",
    "contrib.seq2seq": "tensorflow_addons.seq2seq",
    "contrib.legacy_seq2seq": "tensorflow_addons.seq2seq",
    "contrib.crf": "tensorflow_addons.text.crf_log_likelihood",
    "contrib.image": "tf.image, or tensorflow_addons.image",
    "contrib.metrics": "tf.metrics",
    "contrib.losses": "tf.losses",
    "contrib.framework": "tf.train.get_or_create_global_step, tf.global_variables and the like",
    "contrib.summary": "tf.summary",
    "contrib.cudnn_rnn": "tf.keras.layers.LSTM, outside graph-mode code",
    "contrib.lite": "tf.lite",
    "contrib.eager": "TensorFlow 2's eager mode (without signs_model.tf1)",
    "contrib.layers.batch_norm": "tf.nn.moments and tf.nn.batch_normalization on your own "
                                 "variables (signs_model.batch_norm does this)",
    "contrib.layers.conv2d": "tf.nn.conv2d with a filter from tf.get_variable "
                             "(initializer=tf.contrib.layers.xavier_initializer())",
    "contrib.layers.max_pool2d": "tf.nn.max_pool",
    "contrib.layers.avg_pool2d": "tf.nn.avg_pool",
    "contrib.layers.dropout": "tf.nn.dropout(x, keep_prob=keep_prob)",
    "contrib.layers.layer_norm": "tf.nn.moments over the feature axes, then (x - mean) / sqrt(var + eps)",
    "contrib.layers.one_hot_encoding": "tf.one_hot",
    "contrib.layers.embed_sequence": "tf.nn.embedding_lookup on a tf.get_variable matrix",
    "contrib.layers.linear": "tf.contrib.layers.fully_connected(x, n, activation_fn=None)",
    "contrib.layers.l1_l2_regularizer": "l1_regularizer(s1)(w) + l2_regularizer(s2)(w)",
    "contrib.layers.sum_regularizer": "the sum of the regularizers' results: tf.add_n([r(w) for r in ...])",
    "contrib.layers.optimize_loss": "tf.train.AdamOptimizer(learning_rate).minimize(loss)",
}


class ContribError(SignsError, AttributeError):
    """A ``tf.contrib`` name that TF 2 removed and this package does not provide.

    An AttributeError too, so ``hasattr(tf.contrib, name)`` is False as it would be
    for any missing attribute.
    """


def missing(path):
    """The error for ``tf.<path>`` (``contrib.layers.batch_norm``): what TF 2 offers instead."""
    replacement = REPLACEMENTS.get(path) or REPLACEMENTS.get(".".join(path.split(".")[:2]))
    instead = (f"use {replacement} instead" if replacement else
               f"it provides tf.contrib.layers.{{{','.join(PROVIDED)}}}; for the rest see "
               f"TensorFlow's migration guide, https://www.tensorflow.org/guide/migrate")
    return ContribError(f"tf.{path} was removed with tf.contrib in TensorFlow 2 and "
                        f"signs_model.tf1 does not provide it; {instead}")


def __getattr__(name):
    if name.startswith("_"):  # dunder probes (copy, inspect, IPython) get the ordinary error
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    raise missing(f"contrib.{name}")
