"""The network: LINEAR -> RELU -> ... -> LINEAR -> SOFTMAX, in TF1 graph mode.

With the default sizes (25, 12) these functions build exactly the course's
graph (same variable names, same Xavier initial values, same op names), so the
graded functions in `tutorial` are thin wrappers over them. Options from the
lectures: batch norm on every hidden Z (then that layer has no ``b``; BN's
beta takes its role), inverted dropout on hidden activations, L2 on the weights.
"""
import tensorflow.compat.v1 as tf

from .batchnorm import batch_norm
from .config import OPTIMIZERS
from .errors import SignsError

# tf.contrib.layers.xavier_initializer(seed=1) of TF 1.x: a uniform Glorot
# initializer on the same random stream (checked bit for bit in the tests).
XAVIER_SEED = 1


def create_placeholders(n_x, n_y):
    """X (n_x, None) and Y (n_y, None) float32 placeholders named "X" and "Y"."""
    X = tf.placeholder(tf.float32, [n_x, None], name="X")
    Y = tf.placeholder(tf.float32, [n_y, None], name="Y")
    return X, Y


def initialize_parameters(layer_dims, batch_norm_hidden=False):
    """Create W1, b1, ..., WL, bL with Xavier (seed 1) weights and zero biases.

    Args:
        layer_dims: [n_x, n_h1, ..., n_y].
        batch_norm_hidden: leave out b for the hidden layers (batch norm's beta replaces it).
    Returns:
        dict name -> tf.Variable, e.g. W1 of shape (n_h1, n_x).
    """
    parameters = {}
    L = len(layer_dims) - 1
    for l in range(1, L + 1):
        parameters[f"W{l}"] = tf.get_variable(
            f"W{l}", [layer_dims[l], layer_dims[l - 1]],
            initializer=tf.glorot_uniform_initializer(seed=XAVIER_SEED))
        if not (batch_norm_hidden and l < L):
            parameters[f"b{l}"] = tf.get_variable(f"b{l}", [layer_dims[l], 1],
                                                  initializer=tf.zeros_initializer())
    return parameters


def forward_propagation(X, parameters, training=False, batch_norm_hidden=False,
                        bn_momentum=0.9, keep_prob=1.0, dropout_seed=None):
    """Forward pass up to the last LINEAR (the softmax is folded into the cost).

    Args:
        X: (n_x, m) input tensor.
        parameters: dict from `initialize_parameters`.
        training: Python bool or scalar bool tensor; switches batch norm between
            batch and moving statistics and turns dropout on.
        batch_norm_hidden: normalize every hidden Z (variables ``bn{l}/...``;
            they are created on first use and reused on later calls).
        keep_prob: inverted-dropout keep probability for hidden activations.
        dropout_seed: int64 tensor of shape (2,), needed when keep_prob < 1: the
            masks are a function of it (the trainer passes (tf_seed, step), so a
            resumed run draws the masks an uninterrupted one would).
    Returns:
        ZL: (n_y, m) logits.
    """
    L = sum(1 for k in parameters if k.startswith("W"))
    A = X
    for l in range(1, L + 1):
        Z = tf.matmul(parameters[f"W{l}"], A)
        if l < L and batch_norm_hidden:
            with tf.variable_scope(tf.get_variable_scope(), reuse=tf.AUTO_REUSE):
                Z = batch_norm(Z, training, momentum=bn_momentum, name=f"bn{l}")
        else:
            Z = tf.add(Z, parameters[f"b{l}"])
        if l == L:
            return Z
        A = tf.nn.relu(Z)
        if keep_prob < 1.0:
            A = _dropout(A, training, keep_prob, l, dropout_seed)


def _dropout(A, training, keep_prob, layer, seed):
    """Inverted dropout: keep each unit with keep_prob and divide by it, only in training."""
    if seed is None:
        raise SignsError("dropout (keep_prob < 1) needs dropout_seed, a (2,) int64 tensor",
                         argument="dropout_seed")

    def drop():
        # A stateless draw: the mask is a function of (seed, layer) alone, not of
        # how many masks this session drew before.
        layer_seed = seed * tf.constant([64, 1], tf.int64) + tf.constant([layer, 0], tf.int64)
        keep = tf.random.stateless_uniform(tf.shape(A), layer_seed, dtype=A.dtype) < keep_prob
        return A * tf.cast(keep, A.dtype) / keep_prob

    if isinstance(training, bool):
        return drop() if training else A
    return tf.cond(training, drop, lambda: A)


def compute_cost(ZL, Y, parameters=None, l2_lambda=0.0):
    """Mean softmax cross-entropy over the m columns, plus lambda/(2m) * sum ||W||^2 if asked.

    The logits are transposed to (m, n_y) because TensorFlow's op wants
    examples in rows (the course's "transpose" step).
    """
    logits = tf.transpose(ZL)
    labels = tf.transpose(Y)
    cost = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits_v2(logits=logits, labels=labels))
    if l2_lambda > 0:
        m = tf.cast(tf.shape(Y)[1], tf.float32)
        weights = [v for k, v in sorted(parameters.items()) if k.startswith("W")]
        cost = cost + l2_lambda / (2.0 * m) * tf.add_n([tf.reduce_sum(tf.square(W)) for W in weights])
    return cost


def make_optimizer(name, learning_rate, beta=0.9, beta1=0.9, beta2=0.999, epsilon=1e-8):
    """The lecture's optimizers as TF1 optimizers.

    ``momentum`` is TF's form v = beta*v + dW, W -= alpha*v (the lecture's
    v = beta*v + (1-beta)*dW with alpha scaled by 1/(1-beta)); ``rmsprop``
    uses beta2 as its decay, as in the lecture.
    """
    if name == "gd":
        return tf.train.GradientDescentOptimizer(learning_rate)
    if name == "momentum":
        return tf.train.MomentumOptimizer(learning_rate, beta)
    if name == "rmsprop":
        return tf.train.RMSPropOptimizer(learning_rate, decay=beta2, epsilon=epsilon)
    if name == "adam":
        return tf.train.AdamOptimizer(learning_rate, beta1=beta1, beta2=beta2, epsilon=epsilon)
    raise SignsError(f"optimizer must be one of {', '.join(OPTIMIZERS)}, got {name!r}",
                     argument="optimizer")
