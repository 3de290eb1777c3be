"""Batch normalization written from the lecture's formulas (TF1 graph mode).

For each hidden unit, that is each row of ``Z`` in the course layout
``(units, m)``, over the ``m`` examples of the mini-batch:

    mu      = 1/m * sum_i z(i)
    sigma2  = 1/m * sum_i (z(i) - mu)^2
    z_norm  = (z(i) - mu) / sqrt(sigma2 + epsilon)
    z_tilde = gamma * z_norm + beta

At test time there may be a single example, so there is nothing to average
over; ``mu`` and ``sigma2`` are replaced by exponentially weighted averages of
the mini-batch values seen in training:

    moving = momentum * moving + (1 - momentum) * batch_value

As in TF1, the ops that update those averages are put in
``tf.GraphKeys.UPDATE_OPS``; the training op must depend on them.
"""
import numbers

import numpy as np
import tensorflow.compat.v1 as tf

from .errors import SignsError


def batch_norm(Z, training, momentum=0.9, epsilon=1e-8, name=None):
    """Normalize each unit of ``Z`` over the mini-batch, then scale and shift it.

    Creates, in ``tf.variable_scope(name, default_name="batch_norm")``, the
    learnable ``gamma`` (ones) and ``beta`` (zeros) and the non-trainable
    ``moving_mean`` (zeros) and ``moving_variance`` (ones), all of shape
    ``(units, 1)``.

    In training mode the batch mean and (biased) variance are used and one
    update op per moving statistic is added to ``tf.GraphKeys.UPDATE_OPS``.
    In inference mode the moving statistics are used, so each example is
    normalized on its own (``m = 1`` works) and running the update ops
    leaves the statistics unchanged.

    Args:
        Z: float tensor (or array) of shape ``(units, m)``; ``units`` must be
            known when the graph is built, ``m`` may be ``None``.
        training: Python bool, or a scalar boolean tensor (for example
            ``tf.placeholder_with_default(False, shape=())``) so that one
            graph serves both modes.
        momentum: weight of the past in the moving averages, in ``[0, 1)``.
        epsilon: small positive number added to the variance.
        name: variable scope name; ``None`` gives ``batch_norm``,
            ``batch_norm_1``, ...

    Returns:
        Tensor ``Z_tilde`` of the same shape and dtype as ``Z``.

    Raises:
        SignsError: on a bad ``momentum``, ``epsilon``, ``training`` or ``Z``.

    Example:
        >>> import numpy as np
        >>> import tensorflow.compat.v1 as tf
        >>> from signs_model.batchnorm import batch_norm
        >>> with tf.Graph().as_default():
        ...     Z = tf.placeholder(tf.float32, shape=(3, None))
        ...     training = tf.placeholder_with_default(False, shape=())
        ...     Z_tilde = batch_norm(Z, training)
        ...     updates = tf.get_collection(tf.GraphKeys.UPDATE_OPS)
        ...     with tf.Session() as sess:
        ...         sess.run(tf.global_variables_initializer())
        ...         feed = {Z: np.arange(6.0).reshape(3, 2), training: True}
        ...         out, _ = sess.run([Z_tilde, updates], feed)
        >>> print(out.round(3))
        [[-1.  1.]
         [-1.  1.]
         [-1.  1.]]
    """
    _check_number("momentum", momentum, "a number in [0, 1)", lambda v: 0 <= v < 1)
    _check_number("epsilon", epsilon, "a number > 0", lambda v: v > 0)
    training = _check_training(training)
    Z = _check_Z(Z)
    shape = (tf.dimension_value(Z.shape[0]), 1)

    with tf.variable_scope(name, default_name="batch_norm"):
        gamma = tf.get_variable("gamma", shape, Z.dtype, tf.ones_initializer())
        beta = tf.get_variable("beta", shape, Z.dtype, tf.zeros_initializer())
        moving_mean = tf.get_variable(
            "moving_mean", shape, Z.dtype, tf.zeros_initializer(), trainable=False)
        moving_variance = tf.get_variable(
            "moving_variance", shape, Z.dtype, tf.ones_initializer(), trainable=False)

        if training is False:
            # Inference-only graph: no batch statistics, no update ops.
            mu, sigma2 = moving_mean, moving_variance
        else:
            batch_mu = tf.reduce_mean(Z, axis=1, keepdims=True)
            batch_sigma2 = tf.reduce_mean(tf.square(Z - batch_mu), axis=1, keepdims=True)
            for moving, batch_value in ((moving_mean, batch_mu), (moving_variance, batch_sigma2)):
                update = _select(
                    training,
                    lambda v=moving, x=batch_value: _ewma_assign(v, x, momentum),
                    lambda v=moving: tf.identity(v))
                tf.add_to_collection(tf.GraphKeys.UPDATE_OPS, update)
            mu, sigma2 = _select(
                training,
                lambda: (batch_mu, batch_sigma2),
                lambda: (tf.identity(moving_mean), tf.identity(moving_variance)))

        Z_norm = (Z - mu) / tf.sqrt(sigma2 + epsilon)
        return gamma * Z_norm + beta


def _ewma_assign(variable, batch_value, momentum):
    """Assign ``momentum * variable + (1 - momentum) * batch_value``; return the new value."""
    new_value = momentum * variable + (1.0 - momentum) * batch_value
    return tf.identity(tf.assign(variable, new_value))


def _select(training, true_fn, false_fn):
    """Call one branch now for a Python bool, or build a ``tf.cond`` for a tensor."""
    if isinstance(training, bool):
        return true_fn() if training else false_fn()
    return tf.cond(training, true_fn, false_fn)


def _check_number(name, value, expected, ok):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real) or not ok(value):
        raise SignsError(f"{name} must be {expected}, got {value!r}")


def _check_training(training):
    if isinstance(training, (bool, np.bool_)):
        return bool(training)
    if tf.is_tensor(training) and training.dtype == tf.bool and training.shape.ndims in (None, 0):
        return training
    raise SignsError(
        f"training must be a Python bool or a scalar boolean tensor, got {training!r}")


def _check_Z(Z):
    try:
        Z = tf.convert_to_tensor(Z)
    except (TypeError, ValueError) as err:
        raise SignsError(f"Z must be a float tensor of shape (units, m), got {Z!r}") from err
    if not Z.dtype.is_floating:
        raise SignsError(f"Z must be a float tensor of shape (units, m), got dtype {Z.dtype.name}")
    if Z.shape.ndims != 2 or tf.dimension_value(Z.shape[0]) is None:
        raise SignsError(
            f"Z must have rank 2 and a known first dimension (units, m), got shape {Z.shape}")
    return Z
