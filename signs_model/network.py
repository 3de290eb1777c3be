"""The network: LINEAR -> RELU -> ... -> LINEAR -> SOFTMAX, in TF1 graph mode.

With the default sizes (25, 12) these functions build exactly the course's
graph (same variable names, same Xavier initial values, same op names), so the
graded functions in `tutorial` are thin wrappers over them. Options from the
lectures: batch norm on every hidden Z (then that layer has no ``b``; BN's
beta takes its role), inverted dropout on hidden activations, L2 on the weights.

For photos that are not SIGNS (``create_network``/``logits``, what the trainer
and the predictor build from a TrainConfig): per-photo standardization of the
input, augmentation in training (``augment``), and convolution blocks before
the dense layers (CONV 3x3 -> RELU -> MAXPOOL 2x2 each, as in the course's
next unit).
"""
import math

import tensorflow.compat.v1 as tf

from .augment import augment
from .batchnorm import batch_norm
from .config import OPTIMIZERS
from .data import IMAGE_SHAPE
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
                        bn_momentum=0.9, keep_prob=1.0, dropout_seed=None, first_product=None):
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
        first_product: W1 @ X if it is computed already (``population`` computes
            the first layer of many networks in one product); X is then not used.
    Returns:
        ZL: (n_y, m) logits.
    """
    L = sum(1 for k in parameters if k.startswith("W"))
    A = X
    for l in range(1, L + 1):
        if l == 1 and first_product is not None:
            Z = first_product
        else:
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


def stateless_seed(seed, salt):
    """A (2,) seed for one use of the (2,) ``seed`` (``salt`` < 64: dropout's layer, augmentation's 0)."""
    return seed * tf.constant([64, 1], tf.int64) + tf.constant([salt, 0], tf.int64)


def _dropout(A, training, keep_prob, layer, seed):
    """Inverted dropout: keep each unit with keep_prob and divide by it, only in training."""
    if training is False:  # an inference graph (a predictor): no masks, no seed needed
        return A
    if seed is None:
        raise SignsError("dropout (keep_prob < 1) needs dropout_seed, a (2,) int64 tensor",
                         argument="dropout_seed")

    def drop():
        # A stateless draw: the mask is a function of (seed, layer) alone, not of
        # how many masks this session drew before.
        keep = tf.random.stateless_uniform(tf.shape(A), stateless_seed(seed, layer),
                                           dtype=A.dtype) < keep_prob
        return A * tf.cast(keep, A.dtype) / keep_prob

    if isinstance(training, bool):
        return drop() if training else A
    return tf.cond(training, drop, lambda: A)


def compute_cost(ZL, Y, parameters=None, l2_lambda=0.0, label_smoothing=0.0):
    """Mean softmax cross-entropy over the m columns, plus lambda/(2m) * sum ||W||^2 if asked.

    The logits are transposed to (m, n_y) because TensorFlow's op wants
    examples in rows (the course's "transpose" step). With ``label_smoothing`` s,
    each one-hot target becomes (1 - s) * Y + s / n_y.
    """
    if label_smoothing > 0:
        Y = (1.0 - label_smoothing) * Y + label_smoothing / tf.cast(tf.shape(Y)[0], Y.dtype)
    logits = tf.transpose(ZL)
    labels = tf.transpose(Y)
    cost = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits_v2(logits=logits, labels=labels))
    if l2_lambda > 0:
        m = tf.cast(tf.shape(Y)[1], tf.float32)
        weights = [v for k, v in sorted(parameters.items()) if k.split("/")[-1].startswith("W")]
        cost = cost + l2_lambda / (2.0 * m) * tf.add_n([tf.reduce_sum(tf.square(W)) for W in weights])
    return cost


def standardize(X):
    """Each column (a photo) to zero mean and unit variance: brightness and contrast removed.

    The formula of ``tf.image.per_image_standardization``: (x - mean) / max(std, 1/sqrt(n_x)).
    """
    mean, variance = tf.nn.moments(X, axes=[0], keep_dims=True)
    n_x = tf.cast(tf.shape(X)[0], X.dtype)
    return (X - mean) / tf.maximum(tf.sqrt(variance), tf.math.rsqrt(n_x))


def preprocess(cfg, X):
    """What ``cfg``'s network does to its input X (n_x, m) before the first layer (after
    augmentation in training): ``standardize`` each photo, or nothing."""
    return standardize(X) if cfg.preprocess == "standardize" else X


def conv_output_size(conv_channels, image_shape=IMAGE_SHAPE):
    """Features the conv blocks hand to the dense layers (each block halves height and width)."""
    if not conv_channels:
        return image_shape[0] * image_shape[1] * image_shape[2]
    k = 2 ** len(conv_channels)
    return (image_shape[0] // k) * (image_shape[1] // k) * conv_channels[-1]


def create_network(cfg, n_x, n_y):
    """The variables of ``cfg``'s network: conv blocks ``conv{k}/W``, ``conv{k}/b``, then W1, b1, ...

    The course's network (no conv blocks) gets exactly ``initialize_parameters``'s variables.
    Returns:
        dict name -> tf.Variable.
    """
    parameters = {}
    n_in = n_x
    if cfg.conv_channels:
        if n_x != IMAGE_SHAPE[0] * IMAGE_SHAPE[1] * IMAGE_SHAPE[2]:
            raise SignsError(f"conv_channels needs 64x64x3 photos ({IMAGE_SHAPE[0] * IMAGE_SHAPE[1] * 3} "
                             f"features), got {n_x} features", argument="conv_channels")
        c_in = IMAGE_SHAPE[2]
        for k, c_out in enumerate(cfg.conv_channels, 1):
            with tf.variable_scope(f"conv{k}"):
                parameters[f"conv{k}/W"] = tf.get_variable(
                    "W", [3, 3, c_in, c_out],
                    initializer=tf.glorot_uniform_initializer(seed=XAVIER_SEED))
                if not cfg.conv_batch_norm:  # batch norm's beta takes b's role
                    parameters[f"conv{k}/b"] = tf.get_variable("b", [c_out],
                                                               initializer=tf.zeros_initializer())
            c_in = c_out
        n_in = conv_output_size(cfg.conv_channels)
    parameters.update(initialize_parameters([n_in, *cfg.hidden_units, n_y], cfg.batch_norm))
    return parameters


def logits(cfg, X, parameters, training=False, seed=None):
    """``cfg``'s network on X (n_x, m) in [0, 1]: augmentation (training only), preprocessing,
    conv blocks, then ``forward_propagation``. Training and prediction both build this. With
    ``flip_tta``, outside training, log of the mean probabilities of X and its mirror image.

    Args:
        training: Python bool or scalar bool tensor.
        seed: int64 (2,) tensor; draws augmentation and dropout (needed if they are on).
    Returns:
        ZL: (n_y, m) logits.
    """
    if cfg.augment and training is not False:
        if seed is None:
            raise SignsError("augment needs a seed, a (2,) int64 tensor", argument="seed")
        ranges = {"erase": cfg.erase, "hue": cfg.hue}
        draw = lambda: augment(X, stateless_seed(seed, 0), ranges)  # noqa: E731
        X = draw() if training is True else tf.cond(training, draw, lambda: X)
    if not cfg.flip_tta or training is True:
        return _network(cfg, X, parameters, training, seed)

    def both():
        # Evaluation and prediction read each photo and its mirror image; the logits
        # returned are the log of their mean probabilities (a softmax of them gives it).
        log_p = [tf.nn.log_softmax(_network(cfg, x, parameters, False, seed), axis=0)
                 for x in (X, mirror(X))]
        return tf.reduce_logsumexp(tf.stack(log_p), axis=0) - math.log(2.0)

    if training is False:
        return both()
    # The training pass stays outside the cond: batch norm's updates must not live in a branch.
    trained = _network(cfg, X, parameters, training, seed)
    return tf.cond(training, lambda: trained, both)


def mirror(X):
    """Each column of X (n_x, m), a flattened 64x64x3 photo, mirrored left to right."""
    height, width, channels = IMAGE_SHAPE
    images = tf.reshape(tf.transpose(X), [-1, height, width, channels])
    return tf.transpose(tf.reshape(tf.reverse(images, axis=[2]), [-1, height * width * channels]))


def _network(cfg, X, parameters, training, seed):
    """``logits`` after augmentation: preprocessing, conv blocks, the dense layers."""
    X = preprocess(cfg, X)
    if cfg.conv_channels:
        height, width, channels = IMAGE_SHAPE
        A = tf.reshape(tf.transpose(X), [-1, height, width, channels])
        for k in range(1, len(cfg.conv_channels) + 1):
            Z = tf.nn.conv2d(A, parameters[f"conv{k}/W"], strides=1, padding="SAME")
            if cfg.conv_batch_norm:
                Z = _channel_batch_norm(Z, training, cfg.bn_momentum, f"conv{k}/bn")
            else:
                Z = Z + parameters[f"conv{k}/b"]
            A = tf.nn.max_pool2d(tf.nn.relu(Z), 2, 2, padding="VALID")
        X = tf.transpose(tf.reshape(A, [-1, conv_output_size(cfg.conv_channels)]))
    dense = {k: v for k, v in parameters.items() if "/" not in k}
    return forward_propagation(X, dense, training, cfg.batch_norm, cfg.bn_momentum,
                               cfg.keep_prob, seed)


def _channel_batch_norm(Z, training, momentum, name):
    """Batch norm of conv features Z (m, height, width, channels), one mean and variance per
    channel over the minibatch and every position: ``batch_norm`` on (channels, m * h * w)."""
    channels = Z.shape.as_list()[3]
    rows = tf.transpose(tf.reshape(Z, [-1, channels]))
    with tf.variable_scope(tf.get_variable_scope(), reuse=tf.AUTO_REUSE):
        rows = batch_norm(rows, training, momentum=momentum, name=name)
    return tf.reshape(tf.transpose(rows), tf.shape(Z))


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
