"""``import signs_model.tf1 as tf``: TF 1.x's namespace and the tf.contrib.layers the courses used.

Each contrib function is run the way the courses' TF1 code ran it, and its values are
checked against values the courses published, TF 1.x's formula written out with plain
ops, or the TF 2 equivalent.
"""
import math

import numpy as np
import pytest
import tensorflow

import signs_model.tf1 as tf
from signs_model import network
from signs_model.contrib import ContribError
from signs_model.errors import SignsError
from tolerances import EPS


@pytest.fixture(autouse=True)
def fresh_graph():
    tf.reset_default_graph()
    yield
    tf.reset_default_graph()


def run(*tensors, feed=None):
    """Initialize the default graph's variables and evaluate ``tensors``."""
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        return sess.run(list(tensors), feed)


def test_the_namespace_is_compat_v1_in_graph_mode_plus_contrib():
    assert tf.placeholder is tensorflow.compat.v1.placeholder
    assert tf.train.AdamOptimizer is tensorflow.compat.v1.train.AdamOptimizer
    assert tf.float32 == tensorflow.float32 and tf.__version__ == tensorflow.__version__
    assert not tf.executing_eagerly()
    assert "contrib" in dir(tf) and "placeholder" in dir(tf)
    # nothing is patched into the real module
    assert not hasattr(tensorflow, "contrib") and not hasattr(tensorflow.compat.v1, "contrib")


def test_contrib_parts_not_provided_name_their_replacement():
    with pytest.raises(ContribError, match=r"^tf\.contrib\.layers\.batch_norm was removed .*; use "
                       r"tf\.nn\.moments and tf\.nn\.batch_normalization"):
        tf.contrib.layers.batch_norm
    with pytest.raises(ContribError, match=r"tf\.contrib\.slim .*; use tf_slim"):
        tf.contrib.slim
    with pytest.raises(ContribError, match=r"tf\.contrib\.nothing_like_it .*migration guide"):
        tf.contrib.nothing_like_it
    # one error type: the package's SignsError, and an AttributeError (hasattr stays usable)
    assert issubclass(ContribError, SignsError) and issubclass(ContribError, AttributeError)
    assert not hasattr(tf.contrib, "rnn") and not hasattr(tf.contrib.layers, "__wrapped__")


def test_xavier_uniform_draws_the_published_tf1_values():
    # The course's convolution assignment (TF 1.x) printed these slices of its two filters.
    tf.set_random_seed(1)
    W1 = tf.get_variable("W1", [4, 4, 3, 8], initializer=tf.contrib.layers.xavier_initializer(seed=0))
    W2 = tf.get_variable("W2", [2, 2, 8, 16], initializer=tf.contrib.layers.xavier_initializer(seed=0))
    w1, w2 = run(W1, W2)
    published_w1 = [0.00131723, 0.14176141, -0.04434952, 0.09197326,
                    0.14984085, -0.03514394, -0.06847463, 0.05245192]
    published_w2 = [-0.08566415, 0.17750949, 0.11974221, 0.16773748, -0.0830943, -0.08058,
                    -0.00577033, -0.14643836, 0.24162132, -0.05857408, -0.19055021, 0.1345228,
                    -0.22779644, -0.1601823, -0.16117483, -0.10286498]
    # equal in every printed digit (float32 printed to 8 decimals)
    assert np.abs(w1[1, 1, 1].astype(np.float64) - published_w1).max() <= 5e-9
    assert np.abs(w2[1, 1, 1].astype(np.float64) - published_w2).max() <= 5e-9


def test_xavier_uniform_is_tf2s_glorot_uniform_stream():
    # The course's weights: the project's network draws them with glorot_uniform_initializer.
    shapes = {"W1": [25, 12288], "W2": [12, 25], "W3": [6, 12]}
    tf.set_random_seed(1)
    ours = {k: tf.get_variable(k, s, initializer=tf.contrib.layers.xavier_initializer(seed=1))
            for k, s in shapes.items()}
    values = run(*ours.values())
    with tf.Graph().as_default():
        tf.set_random_seed(1)
        theirs = network.initialize_parameters([12288, 25, 12, 6])
        expected = run(*(theirs[k] for k in shapes))
    for (name, shape), got, want in zip(shapes.items(), values, expected):
        # the same draws times limits computed by two formulas: a rounding or two apart
        limit = math.sqrt(6.0 / sum(shape))
        np.testing.assert_allclose(got, want, rtol=0, atol=4 * EPS * limit, err_msg=name)
        assert np.abs(got).max() <= limit


def test_xavier_normal_is_tf1s_truncated_normal():
    # TF 1.x: truncated_normal(stddev=sqrt(1.3 * 1 / n)), n = (fan_in + fan_out) / 2, fans of a
    # conv filter counted over its receptive field.
    shape, fan_in, fan_out = [3, 3, 16, 32], 3 * 3 * 16, 3 * 3 * 32
    tf.set_random_seed(3)
    W = tf.get_variable("W", shape, initializer=tf.contrib.layers.xavier_initializer(uniform=False, seed=5))
    stddev = math.sqrt(1.3 / ((fan_in + fan_out) / 2.0))
    written_out = tf.truncated_normal(shape, 0.0, stddev, seed=5)
    # TF 2's glorot_normal draws the same truncated normal with the exact truncation correction
    glorot = tf.glorot_normal_initializer(seed=5)(shape)
    w, w_tf1, w_glorot = run(W, written_out, glorot)
    np.testing.assert_array_equal(w, w_tf1)
    ratio = math.sqrt(1.3) * 0.87962566103423978  # sqrt(1.3 / n) / (sqrt(1 / n) / 0.8796...)
    np.testing.assert_allclose(w, w_glorot * ratio, rtol=4 * EPS, atol=4 * EPS * stddev)
    assert np.abs(w).max() <= 2 * stddev * (1 + EPS)
    assert abs(w.std() / math.sqrt(2.0 / (fan_in + fan_out)) - 1) < 0.05  # Glorot's variance
    assert tf.contrib.layers.xavier_initializer_conv2d is tf.contrib.layers.xavier_initializer


def test_variance_scaling_matches_tf2s():
    tf.set_random_seed(0)
    mine = tf.contrib.layers.variance_scaling_initializer(2.0, "FAN_IN", uniform=True, seed=7)([300, 40])
    tf2 = tf.variance_scaling_initializer(2.0, "fan_in", "uniform", seed=7)([300, 40])
    a, b = run(mine, tf2)
    np.testing.assert_allclose(a, b, rtol=0, atol=4 * EPS * math.sqrt(6.0 / 300))
    with pytest.raises(SignsError, match="mode must be one of FAN_IN, FAN_OUT, FAN_AVG, got 'fan_in'"):
        tf.contrib.layers.variance_scaling_initializer(mode="fan_in")


# What the convolution assignment printed for Z3 (its first row or entry) and the cost, by the
# TF 1.x graph of contrib's flatten: the course's v1/v1a notebooks ("1.3", the default) and
# its later notebooks ("1.4").
PUBLISHED_CONV = {
    "1.3": ([-0.44670227], 2.91034, 1e-5),
    "1.4": ([1.4416984, -0.24909666, 5.450499, -0.2618962, -0.20669907, 1.3654671], 4.6648703, 1e-6),
}


@pytest.mark.parametrize("graph", [None, "1.4"])
def test_unseeded_initializer_under_a_graph_seed_draws_tf1s_numbers(graph, monkeypatch):
    # TF 1.x seeded an op from the graph seed and the count of the graph's ops; the
    # convolution assignment's fully connected layer relied on it. Its published Z3 and cost:
    if graph:
        monkeypatch.setenv("SIGNS_TF1_FLATTEN", graph)
    else:
        monkeypatch.delenv("SIGNS_TF1_FLATTEN", raising=False)
    published_z3, published_cost, cost_rel = PUBLISHED_CONV[graph or "1.3"]
    def create_placeholders(n_H0, n_W0, n_C0, n_y):
        X = tf.placeholder(tf.float32, [None, n_H0, n_W0, n_C0])
        Y = tf.placeholder(tf.float32, [None, n_y])
        return X, Y

    def initialize_parameters():
        tf.set_random_seed(1)
        W1 = tf.get_variable("W1", [4, 4, 3, 8], initializer=tf.contrib.layers.xavier_initializer(seed=0))
        W2 = tf.get_variable("W2", [2, 2, 8, 16], initializer=tf.contrib.layers.xavier_initializer(seed=0))
        return {"W1": W1, "W2": W2}

    def forward_propagation(X, parameters):
        A1 = tf.nn.relu(tf.nn.conv2d(X, parameters["W1"], strides=[1, 1, 1, 1], padding="SAME"))
        P1 = tf.nn.max_pool(A1, ksize=[1, 8, 8, 1], strides=[1, 8, 8, 1], padding="SAME")
        A2 = tf.nn.relu(tf.nn.conv2d(P1, parameters["W2"], strides=[1, 1, 1, 1], padding="SAME"))
        P2 = tf.nn.max_pool(A2, ksize=[1, 4, 4, 1], strides=[1, 4, 4, 1], padding="SAME")
        P2 = tf.contrib.layers.flatten(P2)
        return tf.contrib.layers.fully_connected(P2, 6, activation_fn=None)

    np.random.seed(1)
    X, Y = create_placeholders(64, 64, 3, 6)
    Z3 = forward_propagation(X, initialize_parameters())
    cost = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(logits=Z3, labels=Y))
    z3, = run(Z3, feed={X: np.random.randn(2, 64, 64, 3), Y: np.random.randn(2, 6)})
    # float32 convolutions sum in another order than TF 1.x's did: a few ulps of the sums
    np.testing.assert_allclose(z3[0, :len(published_z3)], published_z3, rtol=0,
                               atol=2e-6 * np.abs(z3).max())
    np.random.seed(1)
    c, = run(cost, feed={X: np.random.randn(4, 64, 64, 3), Y: np.random.randn(4, 6)})
    assert c == pytest.approx(published_cost, rel=cost_rel)  # 2.91034: printed to 6 digits


def test_flatten_graph_setting_is_checked(monkeypatch):
    monkeypatch.setenv("SIGNS_TF1_FLATTEN", "2.0")
    with pytest.raises(SignsError, match=r"SIGNS_TF1_FLATTEN must be one of 1.3, 1.4, got '2.0'"):
        tf.contrib.layers.flatten(tf.placeholder(tf.float32, [None, 4, 3]))


def test_l2_regularizer_through_get_variable_as_tf1():
    scale = 0.1
    W = tf.get_variable("W", [4, 3], initializer=tf.contrib.layers.xavier_initializer(seed=1),
                        regularizer=tf.contrib.layers.l2_regularizer(scale))
    b = tf.get_variable("b", [4, 1], initializer=tf.zeros_initializer(),
                        regularizer=tf.contrib.layers.l2_regularizer(0.0))  # 0.0: no penalty
    (penalty,) = tf.get_collection(tf.GraphKeys.REGULARIZATION_LOSSES)
    l1 = tf.contrib.layers.l1_regularizer(scale)(W)
    w, p, total, l1_value, _ = run(W, penalty, tf.losses.get_regularization_loss(), l1, b)
    # tf.nn.l2_loss is sum(W**2) / 2 (TF 2's keras L2(s) is s * sum(W**2), no half)
    expected = scale * np.sum(w.astype(np.float64) ** 2) / 2
    assert p == pytest.approx(expected, rel=8 * EPS) and total == p
    assert l1_value == pytest.approx(scale * np.abs(w.astype(np.float64)).sum(), rel=8 * EPS)
    with pytest.raises(SignsError, match="scale must be a float, got the int 1"):
        tf.contrib.layers.l2_regularizer(1)
    with pytest.raises(SignsError, match="scale must be a float >= 0, got -0.5"):
        tf.contrib.layers.l2_regularizer(-0.5)


def test_a_learners_l2_and_decay_model_equals_the_packages_l2_cost(signs):
    # The learner: the course's network, L2 through get_variable's regularizer and a
    # hand-tuned exponential learning-rate decay, all in TF 1.x's words.
    lambd, m = 0.7, 64
    X_batch, Y_batch = signs.X_train[:, :m], signs.Y_train[:, :m]
    X = tf.placeholder(tf.float32, [12288, None], name="X")
    Y = tf.placeholder(tf.float32, [6, None], name="Y")
    tf.set_random_seed(1)
    parameters = {}
    for l, shape in enumerate([[25, 12288], [12, 25], [6, 12]], 1):
        parameters[f"W{l}"] = tf.get_variable(
            f"W{l}", shape, initializer=tf.contrib.layers.xavier_initializer(seed=1),
            regularizer=tf.contrib.layers.l2_regularizer(lambd / m))
        parameters[f"b{l}"] = tf.get_variable(f"b{l}", [shape[0], 1], initializer=tf.zeros_initializer())
    Z3 = network.forward_propagation(X, parameters)
    cost = network.compute_cost(Z3, Y) + tf.losses.get_regularization_loss()
    packages_cost = network.compute_cost(Z3, Y, parameters, l2_lambda=lambd)  # lambda/(2m) sum ||W||^2
    global_step = tf.Variable(0, trainable=False)
    learning_rate = tf.train.exponential_decay(1e-4, global_step, 1, 0.5, staircase=True)
    train = tf.train.AdamOptimizer(learning_rate).minimize(cost, global_step=global_step)
    feed = {X: X_batch, Y: Y_batch}
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        ours, package = sess.run([cost, packages_cost], feed)
        assert ours == pytest.approx(package, rel=16 * EPS)
        for _ in range(2):
            sess.run(train, feed)
        assert sess.run(learning_rate) == pytest.approx(1e-4 * 0.5 ** 2)
        assert sess.run(cost, feed) < ours


def test_flatten_keeps_the_examples_axis():
    x = tf.placeholder(tf.float32, [None, 4, 4, 3])
    f = tf.contrib.layers.flatten(x)
    assert f.get_shape().as_list() == [None, 48]
    value = np.arange(2 * 4 * 4 * 3, dtype=np.float32).reshape(2, 4, 4, 3)
    (out,) = run(f, feed={x: value})
    np.testing.assert_array_equal(out, value.reshape(2, -1))
    unknown = tf.contrib.layers.flatten(tf.placeholder(tf.float32, [None, None, 3]))
    assert unknown.get_shape().as_list() == [None, None]
    with pytest.raises(SignsError, match="flatten needs inputs of rank >= 2"):
        tf.contrib.layers.flatten(tf.placeholder(tf.float32, [5]))


def test_fully_connected_as_tf1s_layer():
    x = tf.placeholder(tf.float32, [None, 5])
    tf.set_random_seed(2)
    z = tf.contrib.layers.fully_connected(x, 3, activation_fn=None,
                                          weights_regularizer=tf.contrib.layers.l2_regularizer(0.01))
    a = tf.contrib.layers.fully_connected(x, 3, biases_initializer=None)  # default: ReLU
    names = [v.name for v in tf.global_variables()]
    assert names == ["fully_connected/weights:0", "fully_connected/biases:0",
                     "fully_connected_1/weights:0"]
    assert len(tf.get_collection(tf.GraphKeys.REGULARIZATION_LOSSES)) == 1
    value = np.random.RandomState(0).randn(4, 5).astype(np.float32)
    w, bias, w1, z_out, a_out = run(*tf.global_variables(), z, a, feed={x: value})
    np.testing.assert_allclose(z_out, value @ w + bias, rtol=4 * EPS, atol=8 * EPS)
    np.testing.assert_allclose(a_out, np.maximum(value @ w1, 0), rtol=4 * EPS, atol=8 * EPS)
    with pytest.raises(SignsError, match="num_outputs must be an int >= 1, got 0"):
        tf.contrib.layers.fully_connected(x, 0)
