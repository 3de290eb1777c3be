"""Softmax regression from the lecture's formulas: NumPy first, then the same in TF1.

With ``C`` classes and the course layout (one example per column):

    a = softmax(z):  a_j = exp(z_j) / sum_k exp(z_k)        Z, A of shape (C, m)
    L(yhat, y) = -sum_j y_j log yhat_j                      one example
    J = 1/m * sum_i L(yhat(i), y(i))                        the cost
    dZ = A - Y                                              dL/dz, per column

The cost gradient is therefore ``dJ/dZ = dZ / m``; ``backward`` returns the
lecture's ``dZ`` and the training loop divides by ``m``.

The linear classifier ``A = softmax(W X + b)`` is trained by full-batch
gradient descent twice, by hand in NumPy (``train_numpy``) and by TensorFlow's
autodiff in graph mode (``train_tf``); from the same initial weights in
float64 they give the same costs.
"""
import numbers

import numpy as np
import tensorflow.compat.v1 as tf

from .errors import SignsError, check_int


def softmax(Z):
    """Softmax over each column of ``Z``, safe for large logits.

    Subtracting the column maximum leaves the result unchanged
    (it cancels between numerator and denominator) and keeps ``exp`` finite.

    Args:
        Z: array of shape ``(C, m)``, logits of ``m`` examples.

    Returns:
        Array ``A`` of shape ``(C, m)``; each column is positive and sums to 1.

    Example:
        >>> softmax(np.array([[5.0], [2.0], [-1.0], [3.0]])).round(4).ravel()
        array([0.842 , 0.0419, 0.0021, 0.114 ])
    """
    Z = _as_2d("Z", Z)
    T = np.exp(Z - Z.max(axis=0, keepdims=True))
    return T / T.sum(axis=0, keepdims=True)


def cross_entropy(A, Y):
    """The cost ``J = 1/m * sum_i L(a(i), y(i))`` with ``L = -sum_j y_j log a_j``.

    Terms with ``y_j = 0`` count as 0 even where ``a_j = 0``.

    Args:
        A: predicted probabilities, shape ``(C, m)``.
        Y: one-hot labels (or any distribution per column), shape ``(C, m)``.

    Returns:
        The cost, a Python float.

    Example:
        >>> A = np.array([[0.3], [0.2], [0.1], [0.4]])
        >>> Y = np.array([[0.0], [1.0], [0.0], [0.0]])
        >>> round(cross_entropy(A, Y), 4)  # -log 0.2
        1.6094
    """
    A, Y = _same_shape(A, Y)
    log_A = np.log(A, out=np.zeros_like(A), where=Y != 0)
    return float(-np.sum(Y * log_A) / A.shape[1])


def backward(A, Y):
    """The lecture's ``dZ = A - Y``: gradient of each example's loss w.r.t. its logits.

    This is ``dL/dz`` per column, *not* divided by ``m``; the gradient of the
    cost ``J`` is ``backward(A, Y) / m``.

    Args:
        A: softmax output, shape ``(C, m)``.
        Y: one-hot labels, shape ``(C, m)``.

    Returns:
        Array ``dZ`` of shape ``(C, m)``.
    """
    A, Y = _same_shape(A, Y)
    return A - Y


def numerical_gradient(f, Z, h=1e-6):
    """Central finite differences of a scalar function ``f`` at ``Z``: the gradient check.

    Args:
        f: function of an array shaped like ``Z`` returning a float.
        Z: the point, any shape (float64 for a precise check).
        h: step.

    Returns:
        Array like ``Z`` with ``(f(Z + h e_i) - f(Z - h e_i)) / 2h`` per entry.
    """
    Z = np.asarray(Z, dtype=np.float64)
    grad = np.zeros_like(Z)
    for idx in np.ndindex(*Z.shape):
        plus, minus = Z.copy(), Z.copy()
        plus[idx] += h
        minus[idx] -= h
        grad[idx] = (f(plus) - f(minus)) / (2 * h)
    return grad


def initialize(n_x, C, seed):
    """Small random weights and zero biases for a linear softmax classifier.

    Args:
        n_x: number of input features.
        C: number of classes.
        seed: int seed of the NumPy random generator.

    Returns:
        ``(W, b)``: ``W`` of shape ``(C, n_x)`` drawn from ``0.01 * N(0, 1)``,
        ``b`` zeros of shape ``(C, 1)``; both float64.
    """
    check_int("n_x", n_x)
    check_int("C", C)
    rng = np.random.RandomState(seed)
    return 0.01 * rng.randn(C, n_x), np.zeros((C, 1))


def forward(X, W, b):
    """``A = softmax(W X + b)``.

    Args:
        X: inputs, shape ``(n_x, m)``.
        W: weights, shape ``(C, n_x)``.
        b: biases, shape ``(C, 1)``.

    Returns:
        Array ``A`` of shape ``(C, m)``.
    """
    return softmax(W @ X + b)


def train_numpy(X, Y, W0, b0, learning_rate, num_iterations):
    """Full-batch gradient descent on the cross-entropy cost, gradients by hand.

    ``dW = 1/m * dZ X^T`` and ``db = 1/m * sum_i dZ(i)`` with ``dZ = A - Y``.

    Args:
        X: inputs, shape ``(n_x, m)``.
        Y: one-hot labels, shape ``(C, m)``.
        W0: initial weights, shape ``(C, n_x)`` (not modified).
        b0: initial biases, shape ``(C, 1)`` (not modified).
        learning_rate: step size, > 0.
        num_iterations: number of gradient steps, >= 0.

    Returns:
        ``(W, b, costs)``: the trained parameters (float64) and a list with
        the cost before each step (``num_iterations`` floats).
    """
    X, Y, W, b = _check_training_args(X, Y, W0, b0, learning_rate, num_iterations)
    m = X.shape[1]
    costs = []
    for _ in range(num_iterations):
        A = forward(X, W, b)
        costs.append(cross_entropy(A, Y))
        dZ = backward(A, Y)
        W = W - learning_rate * (dZ @ X.T) / m
        b = b - learning_rate * dZ.sum(axis=1, keepdims=True) / m
    return W, b, costs


def train_tf(X, Y, W0, b0, learning_rate, num_iterations):
    """The same training as ``train_numpy``, in TF1 graph mode with autodiff.

    Builds a fresh ``tf.Graph`` in float64; the cost is the mean of
    ``tf.nn.softmax_cross_entropy_with_logits_v2`` on the transposed logits
    (TF wants one example per row), minimized by ``GradientDescentOptimizer``.

    Args:
        X, Y, W0, b0, learning_rate, num_iterations: as in ``train_numpy``.

    Returns:
        ``(W, b, costs)`` as in ``train_numpy``.
    """
    X, Y, W0, b0 = _check_training_args(X, Y, W0, b0, learning_rate, num_iterations)
    graph = tf.Graph()
    with graph.as_default():
        X_ph = tf.placeholder(tf.float64, shape=(X.shape[0], None), name="X")
        Y_ph = tf.placeholder(tf.float64, shape=(Y.shape[0], None), name="Y")
        W = tf.Variable(W0, dtype=tf.float64, name="W")
        b = tf.Variable(b0, dtype=tf.float64, name="b")
        Z = tf.matmul(W, X_ph) + b
        cost = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits_v2(
            logits=tf.transpose(Z), labels=tf.transpose(Y_ph)))
        # A Python float would become a float32 tensor (0.001 -> 0.0010000000475)
        # and the float64 runs would drift apart from NumPy by ~1e-9.
        lr = tf.constant(learning_rate, tf.float64, name="learning_rate")
        train_op = tf.train.GradientDescentOptimizer(lr).minimize(cost)
        init = tf.global_variables_initializer()

    costs = []
    with tf.Session(graph=graph) as sess:
        sess.run(init)
        feed = {X_ph: X, Y_ph: Y}
        for _ in range(num_iterations):
            # The cost is read in the same run as the step, before the update.
            step_cost, _ = sess.run([cost, train_op], feed)
            costs.append(float(step_cost))
        W_out, b_out = sess.run([W, b])
    return W_out, b_out, costs


def _as_2d(name, value):
    value = np.asarray(value, dtype=np.float64)
    if value.ndim != 2:
        raise SignsError(f"{name} must have shape (C, m), got shape {value.shape}")
    return value


def _same_shape(A, Y):
    A, Y = _as_2d("A", A), _as_2d("Y", Y)
    if A.shape != Y.shape:
        raise SignsError(f"A and Y must have the same shape (C, m), got {A.shape} and {Y.shape}")
    return A, Y


def _check_training_args(X, Y, W0, b0, learning_rate, num_iterations):
    X, Y = _as_2d("X", X), _as_2d("Y", Y)
    W0, b0 = _as_2d("W0", W0), _as_2d("b0", b0)
    (n_x, m), C = X.shape, Y.shape[0]
    if Y.shape[1] != m:
        raise SignsError(f"Y must have shape (C, {m}) to match X, got {Y.shape}")
    if W0.shape != (C, n_x):
        raise SignsError(f"W0 must have shape {(C, n_x)}, got {W0.shape}")
    if b0.shape != (C, 1):
        raise SignsError(f"b0 must have shape {(C, 1)}, got {b0.shape}")
    if isinstance(learning_rate, bool) or not isinstance(learning_rate, numbers.Real) \
            or not learning_rate > 0:
        raise SignsError(f"learning_rate must be a number > 0, got {learning_rate!r}")
    check_int("num_iterations", num_iterations, 0)
    return X, Y, W0.copy(), b0.copy()
