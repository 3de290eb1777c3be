"""Tests of signs_model.softmax_regression: lecture numbers, stability, gradients, NumPy vs TF."""

import numpy as np
import pytest
import tensorflow.compat.v1 as tf

from signs_model import softmax_regression
from signs_model.errors import SignsError
from signs_model.softmax_regression import (backward, cross_entropy, forward, initialize, softmax,
                                            train_numpy, train_tf)


def one_hot(labels, C):
    """(m,) int labels -> (C, m) one-hot, the course layout."""
    return np.eye(C)[:, np.asarray(labels).ravel()]


def random_problem(seed, C=4, m=5):
    rng = np.random.RandomState(seed)
    return rng.randn(C, m) * 3.0, one_hot(rng.randint(0, C, m), C)


def synthetic_data(seed, n_x=20, C=6, m=50):
    """Separable-ish classes: each class has its own mean in feature space."""
    rng = np.random.RandomState(seed)
    labels = rng.randint(0, C, m)
    centers = rng.randn(n_x, C)
    X = centers[:, labels] + 0.5 * rng.randn(n_x, m)
    return X, one_hot(labels, C)


# ------------------------------------------------------------- the lecture

def test_lecture_softmax_example():
    # z = [5, 2, -1, 3]: t = e^z = [148.4, 7.4, 0.4, 20.1], sum 176.3, a = t / 176.3
    a = softmax(np.array([[5.0], [2.0], [-1.0], [3.0]]))
    np.testing.assert_allclose(a.ravel(), [0.842, 0.042, 0.002, 0.114], atol=5e-4)


def test_lecture_loss_example():
    # yhat = [0.3, 0.2, 0.1, 0.4], the example is a cat (class 2 of 4): L = -log 0.2
    yhat = np.array([[0.3], [0.2], [0.1], [0.4]])
    y = np.array([[0.0], [1.0], [0.0], [0.0]])
    assert cross_entropy(yhat, y) == pytest.approx(-np.log(0.2), rel=1e-12)
    np.testing.assert_allclose(backward(yhat, y).ravel(), [0.3, -0.8, 0.1, 0.4], rtol=1e-12)


def test_cost_is_the_mean_of_the_losses_over_examples():
    Z, Y = random_problem(seed=0, m=7)
    A = softmax(Z)
    losses = [cross_entropy(A[:, [i]], Y[:, [i]]) for i in range(7)]
    assert cross_entropy(A, Y) == pytest.approx(np.mean(losses), rel=1e-12)


# ------------------------------------------------------------- stability

def test_softmax_is_stable_for_large_logits():
    Z = np.array([[1000.0, -1000.0, 0.0],
                  [999.0, 0.0, 1000.0],
                  [0.0, 1000.0, -1000.0]])
    with np.errstate(over="raise", invalid="raise", divide="raise"):  # no inf, no 0/0
        A = softmax(Z)
    assert np.all(np.isfinite(A))
    np.testing.assert_allclose(A.sum(axis=0), 1.0, rtol=1e-12)
    e = np.exp(-1.0)
    np.testing.assert_allclose(A[:, 0], [1 / (1 + e), e / (1 + e), 0.0], atol=1e-12)
    # Shifting a column by a constant changes nothing.
    np.testing.assert_allclose(softmax(Z - 1000.0), A, atol=1e-15)
    # A zero probability on a class the example is not in costs nothing.
    assert np.isfinite(cross_entropy(A, one_hot([0, 2, 1], 3)))


def test_columns_sum_to_one_and_order_is_kept():
    Z, _ = random_problem(seed=1, C=6, m=10)
    A = softmax(Z)
    np.testing.assert_allclose(A.sum(axis=0), 1.0, rtol=1e-12)
    assert np.all(A > 0)
    np.testing.assert_array_equal(A.argmax(axis=0), Z.argmax(axis=0))


# ------------------------------------------------------------- gradients

def test_backward_matches_finite_differences_of_the_cost():
    Z, Y = random_problem(seed=2, C=4, m=5)
    m = Z.shape[1]
    dJ = backward(softmax(Z), Y) / m  # dZ is per example; the cost divides by m

    numeric = softmax_regression.numerical_gradient(lambda Z: cross_entropy(softmax(Z), Y), Z)
    np.testing.assert_allclose(dJ, numeric, rtol=1e-6, atol=1e-9)
    # the check itself: a known gradient, d/dZ sum(Z**3) = 3 Z**2
    np.testing.assert_allclose(softmax_regression.numerical_gradient(lambda Z: np.sum(Z ** 3), Z),
                               3 * Z ** 2, rtol=1e-6, atol=1e-8)


def test_backward_and_cost_match_tensorflow():
    Z_value, Y_value = random_problem(seed=3, C=6, m=8)
    with tf.Graph().as_default():
        Z = tf.placeholder(tf.float64, (6, None))
        Y = tf.placeholder(tf.float64, (6, None))
        # TF wants one example per row: transpose the course layout.
        J = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits_v2(
            logits=tf.transpose(Z), labels=tf.transpose(Y)))
        (dZ,) = tf.gradients(J, [Z])
        with tf.Session() as sess:
            J_tf, dZ_tf = sess.run([J, dZ], {Z: Z_value, Y: Y_value})
    A = softmax(Z_value)
    assert cross_entropy(A, Y_value) == pytest.approx(J_tf, rel=1e-12)
    np.testing.assert_allclose(backward(A, Y_value) / Z_value.shape[1], dZ_tf, rtol=1e-10, atol=1e-14)


# ------------------------------------------------------------- the classifier

def test_initialize_shapes_scale_and_seed():
    W, b = initialize(20, 6, seed=1)
    assert W.shape == (6, 20) and b.shape == (6, 1)
    np.testing.assert_array_equal(b, 0.0)
    assert 0.005 < W.std() < 0.02
    np.testing.assert_array_equal(W, initialize(20, 6, seed=1)[0])
    assert not np.array_equal(W, initialize(20, 6, seed=2)[0])


def test_forward_shape_and_probabilities():
    X, Y = synthetic_data(seed=4)
    W, b = initialize(20, 6, seed=4)
    A = forward(X, W, b)
    assert A.shape == Y.shape
    np.testing.assert_allclose(A.sum(axis=0), 1.0, rtol=1e-12)


def test_numpy_and_tensorflow_training_agree():
    X, Y = synthetic_data(seed=5)
    W0, b0 = initialize(20, 6, seed=5)
    W0_before, b0_before = W0.copy(), b0.copy()

    W_np, b_np, costs_np = train_numpy(X, Y, W0, b0, learning_rate=0.3, num_iterations=60)
    W_tf, b_tf, costs_tf = train_tf(X, Y, W0, b0, learning_rate=0.3, num_iterations=60)

    assert len(costs_np) == len(costs_tf) == 60
    assert costs_np[0] == pytest.approx(np.log(6), rel=0.05)  # near-uniform start
    assert costs_np[-1] < 0.5 * costs_np[0]  # it learns
    np.testing.assert_allclose(costs_np, costs_tf, rtol=0, atol=1e-10)
    np.testing.assert_allclose(W_np, W_tf, rtol=0, atol=1e-10)
    np.testing.assert_allclose(b_np, b_tf, rtol=0, atol=1e-10)
    np.testing.assert_array_equal(W0, W0_before)  # inputs untouched
    np.testing.assert_array_equal(b0, b0_before)


def test_zero_iterations_returns_the_initial_weights():
    X, Y = synthetic_data(seed=6)
    W0, b0 = initialize(20, 6, seed=6)
    for train in (train_numpy, train_tf):
        W, b, costs = train(X, Y, W0, b0, learning_rate=0.1, num_iterations=0)
        assert costs == []
        np.testing.assert_array_equal(W, W0)
        np.testing.assert_array_equal(b, b0)


def test_numpy_and_tensorflow_agree_on_signs(signs):
    # the prepared SIGNS (conftest), widened to float64: both trainers see the same values
    X = signs.X_train.astype(np.float64)  # (12288, 1080)
    Y = signs.Y_train.astype(np.float64)
    assert X.shape == (12288, 1080) and Y.shape == (6, 1080)
    W0, b0 = initialize(X.shape[0], 6, seed=1)

    _, _, costs_np = train_numpy(X, Y, W0, b0, learning_rate=0.001, num_iterations=20)
    _, _, costs_tf = train_tf(X, Y, W0, b0, learning_rate=0.001, num_iterations=20)
    np.testing.assert_allclose(costs_np, costs_tf, rtol=0, atol=1e-10)
    assert costs_np[-1] < costs_np[0]


# ------------------------------------------------------------- bad input

@pytest.mark.parametrize("call, argument", [
    (lambda: softmax(np.zeros(4)), "Z"),
    (lambda: cross_entropy(np.ones((3, 2)) / 3, np.ones((3, 3))), "A and Y"),
    (lambda: backward(np.ones((3, 2)) / 3, np.ones((2, 2))), "A and Y"),
    (lambda: initialize(0, 6, seed=0), "n_x"),
    (lambda: initialize(20, 2.5, seed=0), "C"),
])
def test_bad_shapes_raise_signs_error(call, argument):
    with pytest.raises(SignsError, match=f"^{argument} must"):
        call()


@pytest.mark.parametrize("train", [train_numpy, train_tf])
@pytest.mark.parametrize("change, argument", [
    ({"Y": np.zeros((6, 49))}, "Y"),
    ({"W0": np.zeros((6, 19))}, "W0"),
    ({"b0": np.zeros((6,))}, "b0"),
    ({"learning_rate": 0}, "learning_rate"),
    ({"num_iterations": -1}, "num_iterations"),
    ({"num_iterations": 2.0}, "num_iterations"),
])
def test_bad_training_arguments_raise_signs_error(train, change, argument):
    X, Y = synthetic_data(seed=7)
    W0, b0 = initialize(20, 6, seed=7)
    args = dict(X=X, Y=Y, W0=W0, b0=b0, learning_rate=0.1, num_iterations=3)
    args.update(change)
    with pytest.raises(SignsError, match=f"^{argument} must"):
        train(**args)
