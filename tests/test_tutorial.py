"""The course's TF basics and graded functions return what the course notebook printed."""
import numpy as np
import pytest
import tensorflow.compat.v1 as tf

import signs_model
from signs_model import network, tutorial
from tolerances import EPS


@pytest.fixture(autouse=True)
def fresh_graph():
    tf.reset_default_graph()
    yield
    tf.reset_default_graph()


def test_tf1_basics():
    assert tutorial.loss_example() == 9
    c, value = tutorial.multiply_example()
    assert str(c) == 'Tensor("Mul:0", shape=(), dtype=int32)'
    assert value == 20
    assert tutorial.placeholder_example(3) == 6


def test_minimize_quadratic_as_in_the_lecture():
    w0, w1, w = tutorial.minimize_quadratic()
    assert w0 == 0.0
    assert round(float(w1), 6) == 0.1
    assert round(float(w), 5) == 4.99999
    # the same cost with its coefficients fed through a [3, 1] placeholder
    assert tutorial.minimize_quadratic(coefficients=[1.0, -10.0, 25.0]) == (w0, w1, w)
    # other coefficients move the minimum: J = w**2 - 4w + 4 has its minimum at 2
    assert abs(tutorial.minimize_quadratic(coefficients=[1.0, -4.0, 4.0])[2] - 2.0) < 1e-4


def test_linear_function():
    expected = [[-2.15657382], [2.95891446], [-1.08926781], [-0.84538042]]
    np.testing.assert_allclose(signs_model.linear_function(), expected, atol=5e-9)


def test_sigmoid():
    assert signs_model.sigmoid(0) == 0.5
    assert round(float(signs_model.sigmoid(12)), 6) == 0.999994


def test_cost_both_course_versions():
    z = np.array([0.2, 0.4, 0.7, 0.9])
    np.testing.assert_allclose(signs_model.cost(signs_model.sigmoid(z), np.array([0, 0, 1, 1])),
                               [1.00538719, 1.03664088, 0.41385433, 0.39956614], atol=1e-6)
    np.testing.assert_allclose(signs_model.cost(z, np.array([0, 0, 1, 1])),
                               [0.79813886, 0.91301525, 0.40318605, 0.34115386], atol=1e-6)


def test_one_hot_and_ones():
    one_hot = signs_model.one_hot_matrix(np.array([1, 2, 3, 0, 2, 1]), C=4)
    np.testing.assert_array_equal(one_hot, [[0, 0, 0, 1, 0, 0], [1, 0, 0, 0, 0, 1],
                                            [0, 1, 0, 0, 1, 0], [0, 0, 1, 0, 0, 0]])
    np.testing.assert_array_equal(signs_model.ones([3]), [1.0, 1.0, 1.0])


def test_tensor_and_variable_names_as_the_course_printed():
    X, Y = signs_model.create_placeholders(12288, 6)
    assert str(X) == 'Tensor("X:0", shape=(12288, ?), dtype=float32)'
    assert str(Y) == 'Tensor("Y:0", shape=(6, ?), dtype=float32)'
    parameters = signs_model.initialize_parameters()
    shapes = {"W1": (25, 12288), "b1": (25, 1), "W2": (12, 25), "b2": (12, 1),
              "W3": (6, 12), "b3": (6, 1)}
    for name, shape in shapes.items():
        assert repr(parameters[name]) == (f"<tf.Variable '{name}:0' shape={shape} "
                                          f"dtype=float32_ref>")
    Z3 = signs_model.forward_propagation(X, parameters)
    assert str(Z3) == 'Tensor("Add_2:0", shape=(6, ?), dtype=float32)'
    assert str(signs_model.compute_cost(Z3, Y)) == 'Tensor("Mean:0", shape=(), dtype=float32)'


def tf1_xavier(shape, fan_in, fan_out, op_seed, graph_seed):
    """TF 1.x's ``xavier_initializer(uniform=True, seed=op_seed)`` written out: a uniform
    ``random_uniform`` draw on +-sqrt(6 / (fan_in + fan_out)) under ``set_random_seed(graph_seed)``,
    in a graph of its own. The project's code is not involved."""
    limit = np.sqrt(6.0 / (fan_in + fan_out))
    with tf.Graph().as_default():
        tf.set_random_seed(graph_seed)
        draw = tf.random_uniform(shape, -limit, limit, dtype=tf.float32, seed=op_seed)
        with tf.Session() as sess:
            return sess.run(draw), limit


def test_xavier_init_is_tf1_stream():
    """The project's initializers draw TF 1.x's Xavier stream, checked against a published one."""
    # The reference is TF 1.x's stream: the course's convolution assignment printed this
    # slice of a [4, 4, 3, 8] Xavier(seed=0) variable under graph seed 1.
    conv, _ = tf1_xavier([4, 4, 3, 8], 4 * 4 * 3, 4 * 4 * 8, op_seed=0, graph_seed=1)
    published = [0.00131723, 0.14176141, -0.04434952, 0.09197326,
                 0.14984085, -0.03514394, -0.06847463, 0.05245192]
    # equal in every printed digit (float32 printed to 8 decimals)
    assert np.abs(conv[1, 1, 1].astype(np.float64) - published).max() <= 5e-9

    # The project's weights are that stream with op seed 1 (the course's Xavier seed): the
    # tutorial's (graph seed 1 set inside it) and network's for other sizes, each in a fresh
    # graph. Same op sequence, so equal up to a rounding or two of the limit's float32
    # product (another formula for sqrt(6 / (fan_in + fan_out)) may round differently).
    def check(parameters, dims):
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            values = sess.run(parameters)
        for l in range(1, len(dims)):
            shape = [dims[l], dims[l - 1]]
            expected, limit = tf1_xavier(shape, dims[l - 1], dims[l], op_seed=1, graph_seed=1)
            np.testing.assert_allclose(values[f"W{l}"], expected, rtol=0, atol=4 * EPS * limit,
                                       err_msg=f"W{l} of {dims}")

    with tf.Graph().as_default():
        check(tutorial.initialize_parameters(), [12288, 25, 12, 6])
    for dims in ([20, 7, 3], [12288, 40, 10, 6, 6]):
        with tf.Graph().as_default():
            tf.set_random_seed(1)
            check(network.initialize_parameters(dims), dims)


def test_initialize_parameters_is_xavier_seed_1():
    parameters = signs_model.initialize_parameters()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        values = sess.run(parameters)
    for l, (n, n_prev) in enumerate([(25, 12288), (12, 25), (6, 12)], start=1):
        limit = np.sqrt(6.0 / (n + n_prev))
        W = values[f"W{l}"]
        assert np.abs(W).max() <= limit and np.abs(W).max() > 0.9 * limit
        assert not values[f"b{l}"].any()
    # Same graph seed and op seed -> the same stream: W2 starts like W1 rescaled.
    u1 = values["W1"].ravel()[:300] / np.sqrt(6.0 / (25 + 12288))
    u2 = values["W2"].ravel() / np.sqrt(6.0 / (12 + 25))
    np.testing.assert_allclose(u1, u2, atol=1e-5)


def test_model_matches_the_trainer_feed_engine(signs, capsys):
    from signs_model import train
    from signs_model.config import TrainConfig

    parameters = signs_model.model(signs.X_train, signs.Y_train, signs.X_test, signs.Y_test,
                                   num_epochs=2, print_cost=True)
    out = capsys.readouterr().out
    assert "Cost after epoch 0:" in out and "Train Accuracy:" in out and "Test Accuracy:" in out
    printed = float(out.split("Cost after epoch 0:")[1].split()[0])
    assert set(parameters) == {"W1", "b1", "W2", "b2", "W3", "b3"}
    assert isinstance(parameters["W1"], np.ndarray)
    result = train.train(TrainConfig(num_epochs=2), signs.X_train, signs.Y_train,
                         engine="feed", progress=False)
    assert round(result["costs"][0], 6) == printed
    for name, value in parameters.items():
        np.testing.assert_array_equal(value, result["parameters"][name])
