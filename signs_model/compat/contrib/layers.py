"""``tf.contrib.layers`` as the deeplearning.ai courses used it, on ``tf.compat.v1``.

Each function takes TF 1.x's arguments and does what TF 1.x's did. The
initializers build the same random ops with the same seeds, so they draw the
same numbers: ``xavier_initializer(seed=1)`` gives the course's W1 bit for bit.
Names used by the courses' TF1 code::

    tf.contrib.layers.xavier_initializer(seed=1)          # the weights of every assignment
    tf.contrib.layers.flatten(P2)                         # (m, h, w, c) -> (m, h*w*c)
    tf.contrib.layers.fully_connected(F, 6, activation_fn=None)
    tf.get_variable("W1", shape, regularizer=tf.contrib.layers.l2_regularizer(0.01))

Any other name raises `signs_model.contrib.ContribError` saying what to use instead.
"""
import math
import numbers
import os

import tensorflow.compat.v1 as tf

from ...errors import SignsError

__all__ = ["xavier_initializer", "xavier_initializer_conv2d", "variance_scaling_initializer",
           "l1_regularizer", "l2_regularizer", "apply_regularization", "flatten", "fully_connected"]

MODES = ("FAN_IN", "FAN_OUT", "FAN_AVG")


def variance_scaling_initializer(factor=2.0, mode="FAN_IN", uniform=False, seed=None,
                                 dtype=tf.float32):
    """Weights with variance factor / n, n being the fan in, the fan out or their mean (TF 1.x's).

    The fans of a (..., n_in, n_out) shape are n_in and n_out times the leading
    dimensions (a conv filter's receptive field).

    Args:
        uniform: U(-limit, limit) with limit = sqrt(3 * factor / n). Otherwise a normal
            truncated at two standard deviations, of stddev sqrt(1.3 * factor / n): TF 1.x's
            1.3 roughly undoes the truncation (which leaves 0.774 of the variance).
        seed: the op seed; with ``tf.set_random_seed``'s graph seed it fixes the draw.
    Returns:
        initializer(shape, dtype=dtype, partition_info=None) -> Tensor, as ``tf.get_variable`` calls it.
    """
    if not tf.as_dtype(dtype).is_floating:
        raise SignsError(f"dtype must be a floating point type, got {tf.as_dtype(dtype).name}",
                         argument="dtype")
    if mode not in MODES:
        raise SignsError(f"mode must be one of {', '.join(MODES)}, got {mode!r}", argument="mode")

    def initializer(shape, dtype=dtype, partition_info=None):
        shape = list(shape)
        fan_in = float(shape[-2]) if len(shape) > 1 else float(shape[-1])
        fan_out = float(shape[-1])
        for dim in shape[:-2]:
            fan_in *= float(dim)
            fan_out *= float(dim)
        n = {"FAN_IN": fan_in, "FAN_OUT": fan_out, "FAN_AVG": (fan_in + fan_out) / 2.0}[mode]
        # The limit and stddev are computed in float64, as TF 1.x did, before the ops see them.
        if uniform:
            limit = math.sqrt(3.0 * factor / n)
            return tf.random_uniform(shape, -limit, limit, tf.as_dtype(dtype), seed=_op_seed(seed))
        return tf.truncated_normal(shape, 0.0, math.sqrt(1.3 * factor / n), tf.as_dtype(dtype),
                                   seed=_op_seed(seed))

    return initializer


def _op_seed(seed):
    """The op seed TF 1.x gave a random op made now: ``seed``, or under a graph seed alone
    the count of the graph's ops when the op asks for it (TF 2 counts random ops instead).

    That count includes the three constants (shape, and min/max or mean/stddev) the op
    makes first. So an unseeded initializer under ``tf.set_random_seed`` draws TF 1.x's
    numbers in a graph built by the same ops, as the courses' graphs are.
    """
    graph = tf.get_default_graph()
    if seed is not None or graph.seed is None:
        return seed
    return len(graph.get_operations()) + 3


def xavier_initializer(uniform=True, seed=None, dtype=tf.float32):
    """Glorot & Bengio's initialization: variance 1 / mean(fan_in, fan_out).

    uniform=True: U(-sqrt(6 / (fan_in + fan_out)), +...), the stream of
    ``tf.glorot_uniform_initializer(seed)``. uniform=False: TF 1.x's truncated normal of
    stddev sqrt(2.6 / (fan_in + fan_out)) (not ``glorot_normal``'s, which corrects the
    truncation exactly: the same draw times 1.0029).
    """
    return variance_scaling_initializer(1.0, "FAN_AVG", uniform, seed, dtype)


xavier_initializer_conv2d = xavier_initializer  # TF 1.x's was the same function


def _disabled(scale):
    """Check a regularizer's scale as TF 1.x did; True when it is 0 (no regularization)."""
    if isinstance(scale, numbers.Integral):  # bools too
        raise SignsError(f"scale must be a float, got the int {scale!r} (TF 1.x refused ints too)",
                         argument="scale")
    if isinstance(scale, numbers.Real):
        if not scale >= 0:
            raise SignsError(f"scale must be a float >= 0, got {scale!r}", argument="scale")
        return scale == 0
    return False  # a tensor


def l2_regularizer(scale, scope=None):
    """The penalty scale * sum(W**2) / 2 (``tf.nn.l2_loss``), as a function of W.

    Given to ``tf.get_variable(..., regularizer=...)``, its value joins the
    REGULARIZATION_LOSSES collection (``tf.losses.get_regularization_loss()`` sums it).
    The course's L2 cost lambda/(2m) * sum ||W||^2 is l2_regularizer(lambda / m).
    A scale of 0.0 returns a regularizer that adds nothing (None).
    """
    if _disabled(scale):
        return lambda weights: None

    def l2(weights):
        with tf.name_scope(scope, "l2_regularizer", [weights]) as name:
            factor = tf.convert_to_tensor(scale, dtype=weights.dtype.base_dtype, name="scale")
            return tf.multiply(factor, tf.nn.l2_loss(weights), name=name)

    return l2


def l1_regularizer(scale, scope=None):
    """The penalty scale * sum(|W|), as a function of W (see `l2_regularizer`)."""
    if _disabled(scale):
        return lambda weights: None

    def l1(weights):
        with tf.name_scope(scope, "l1_regularizer", [weights]) as name:
            factor = tf.convert_to_tensor(scale, dtype=weights.dtype.base_dtype, name="scale")
            return tf.multiply(factor, tf.reduce_sum(tf.abs(weights)), name=name)

    return l1


def apply_regularization(regularizer, weights_list=None):
    """The sum of ``regularizer(W)`` over ``weights_list`` (default: the WEIGHTS collection).

    The sum is also added to the REGULARIZATION_LOSSES collection, as in TF 1.x.
    """
    weights_list = weights_list or tf.get_collection(tf.GraphKeys.WEIGHTS)
    if not weights_list:
        raise SignsError("apply_regularization found no weights; expected weights_list, or "
                         "variables in the WEIGHTS collection", argument="weights_list")
    with tf.name_scope("get_regularization_penalty", values=weights_list) as name:
        penalties = [regularizer(w) for w in weights_list]
        penalties = [tf.constant(0.0) if p is None else p for p in penalties]
        for p in penalties:
            if p.get_shape().ndims != 0:
                raise SignsError(f"the regularizer must return a scalar, got shape {p.get_shape()}",
                                 argument="regularizer")
        total = tf.add_n(penalties, name=name)
    tf.add_to_collection(tf.GraphKeys.REGULARIZATION_LOSSES, total)
    return total


# TF 1.x's contrib flatten built two different graphs over its life. Up to TF 1.3 it cut the
# shape apart with slices (14 ops); from TF 1.4 it was tf.layers.flatten (8 ops). A later
# unseeded draw takes its op seed from the op count, so the convolution assignment's Z3 and
# cost depend on it: the course's v1/v1a notebooks print those of the 14-op graph
# (Z3[0,0] -0.44670227, cost 2.91034), its later notebooks those of the 8-op one (4.6648703).
FLATTEN_GRAPHS = ("1.3", "1.4")
FLATTEN_ENV = "SIGNS_TF1_FLATTEN"


def flatten_graph():
    """Which TF 1.x flatten graph `flatten` builds: $SIGNS_TF1_FLATTEN, "1.3" (default) or "1.4"."""
    version = os.environ.get(FLATTEN_ENV) or FLATTEN_GRAPHS[0]
    if version not in FLATTEN_GRAPHS:
        raise SignsError(f"${FLATTEN_ENV} must be one of {', '.join(FLATTEN_GRAPHS)}, got {version!r}")
    return version


def flatten(inputs, outputs_collections=None, scope=None):
    """(m, d1, d2, ...) -> (m, d1 * d2 * ...): each example's features in one row.

    Examples come first, as in the convolution assignments (not the (n_x, m)
    columns of the first courses). Built from the ops TF 1.x's built, in its
    order (`flatten_graph` says which TF 1.x): a later ``fully_connected``'s unseeded
    weights then draw TF 1.x's numbers (their op seed counts the graph's ops).
    """
    version = flatten_graph()
    with tf.name_scope(scope, "Flatten", [inputs]):
        inputs = tf.convert_to_tensor(inputs)
        shape = inputs.get_shape()
        if shape.ndims is None or shape.ndims < 2:
            raise SignsError(f"flatten needs inputs of rank >= 2, examples first; got shape {shape}",
                             argument="inputs")
        if version == "1.3":
            dims = tf.shape(inputs)
            batch = tf.slice(dims, [0], [1])
            features = tf.expand_dims(tf.reduce_prod(tf.slice(dims, [1], [shape.ndims - 1])), 0)
            outputs = tf.reshape(inputs, tf.concat([batch, features], 0))
        else:
            outputs = tf.reshape(inputs, (tf.shape(inputs)[0], -1))
        dims = shape.as_list()
        outputs.set_shape([dims[0], math.prod(dims[1:]) if all(dims[1:]) else None])
        if outputs_collections:
            tf.add_to_collections(outputs_collections, outputs)
        return outputs


def fully_connected(inputs, num_outputs, activation_fn=tf.nn.relu,
                    weights_initializer=xavier_initializer(), weights_regularizer=None,
                    biases_initializer=tf.zeros_initializer(), biases_regularizer=None,
                    reuse=None, trainable=True, scope=None):
    """activation_fn(inputs @ weights + biases), with the variables made here (TF 1.x's layer).

    Args:
        inputs: (m, n_in) (or (..., n_in)) tensor, examples first.
        num_outputs: units of the layer.
        activation_fn: applied last; TF 1.x's default is ReLU: pass None for the
            logits (the course's ``fully_connected(P2, 6, activation_fn=None)``).
        weights_initializer, biases_initializer: biases_initializer=None: no biases.
        weights_regularizer, biases_regularizer: e.g. `l2_regularizer`; their penalties go to
            REGULARIZATION_LOSSES.
        scope: variable scope; default "fully_connected", "fully_connected_1", ...
    Returns:
        (m, num_outputs) tensor. The variables are ``<scope>/weights`` (n_in, num_outputs)
        and ``<scope>/biases`` (num_outputs,).
    """
    if not isinstance(num_outputs, numbers.Integral) or isinstance(num_outputs, bool) or num_outputs < 1:
        raise SignsError(f"num_outputs must be an int >= 1, got {num_outputs!r}", argument="num_outputs")
    with tf.variable_scope(scope, "fully_connected", [inputs], reuse=reuse):
        inputs = tf.convert_to_tensor(inputs)
        rank = inputs.get_shape().ndims
        n_in = tf.dimension_value(inputs.get_shape()[-1]) if rank else None
        if n_in is None:
            raise SignsError(f"fully_connected needs inputs whose last dimension is known, got shape "
                             f"{inputs.get_shape()}", argument="inputs")
        dtype = inputs.dtype.base_dtype
        weights = tf.get_variable("weights", [n_in, num_outputs], dtype,
                                  initializer=weights_initializer, regularizer=weights_regularizer,
                                  trainable=trainable)
        if rank == 2:
            outputs = tf.matmul(inputs, weights)
        else:
            outputs = tf.tensordot(inputs, weights, [[rank - 1], [0]])
        if biases_initializer is not None:
            biases = tf.get_variable("biases", [num_outputs], dtype, initializer=biases_initializer,
                                     regularizer=biases_regularizer, trainable=trainable)
            outputs = tf.nn.bias_add(outputs, biases)
        return outputs if activation_fn is None else activation_fn(outputs)


def __getattr__(name):
    if name.startswith("_"):
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from . import missing

    raise missing(f"contrib.layers.{name}")
