"""The course's TensorFlow tutorial: the TF1 basics and the graded functions.

Each function keeps the course's name, signature, seeds and op order, so it
returns what the course notebook printed. They build into the default graph,
as the course did; `model` resets it first.
"""
import numpy as np
import tensorflow.compat.v1 as tf
from tensorflow.python.framework import ops

from . import network
from .plots import plot_costs
from .engines import epoch_cost, feed_epoch


# --- 1. Exploring the TensorFlow library ------------------------------------

def loss_example():
    """loss = (y - y_hat)**2 with y_hat = 36, y = 39, as a Variable: returns 9."""
    y_hat = tf.constant(36, name="y_hat")
    y = tf.constant(39, name="y")
    loss = tf.Variable((y - y_hat) ** 2, name="loss")
    init = tf.global_variables_initializer()
    with tf.Session() as session:
        session.run(init)
        return session.run(loss)


def multiply_example():
    """tf.multiply(2, 10): returns (the Tensor, before running it; 20, after)."""
    a = tf.constant(2)
    b = tf.constant(10)
    c = tf.multiply(a, b)
    sess = tf.Session()
    value = sess.run(c)
    sess.close()
    return c, value


def placeholder_example(value=3):
    """2 * x with x a placeholder fed through feed_dict: returns 6 for x = 3."""
    x = tf.placeholder(tf.int64, name="x")
    sess = tf.Session()
    result = sess.run(2 * x, feed_dict={x: value})
    sess.close()
    return result


def linear_function():
    """Y = WX + b with W (4,3), X (3,1), b (4,1) drawn from np.random.seed(1); runs with sess.close()."""
    np.random.seed(1)
    X = tf.constant(np.random.randn(3, 1), name="X")
    W = tf.constant(np.random.randn(4, 3), name="W")
    b = tf.constant(np.random.randn(4, 1), name="b")
    Y = tf.add(tf.matmul(W, X), b)
    sess = tf.Session()
    result = sess.run(Y)
    sess.close()
    return result


def sigmoid(z):
    """sigmoid(z) through a placeholder; runs in the ``with tf.Session()`` form."""
    x = tf.placeholder(tf.float32, name="x")
    sigmoid = tf.sigmoid(x)
    with tf.Session() as sess:
        result = sess.run(sigmoid, feed_dict={x: z})
    return result


def cost(logits, labels):
    """Sigmoid cross-entropy per example, -(y log sigmoid(z) + (1-y) log(1-sigmoid(z)))."""
    z = tf.placeholder(tf.float32, name="z")
    y = tf.placeholder(tf.float32, name="y")
    cost = tf.nn.sigmoid_cross_entropy_with_logits(logits=z, labels=y)
    sess = tf.Session()
    cost = sess.run(cost, feed_dict={z: logits, y: labels})
    sess.close()
    return cost


def one_hot_matrix(labels, C):
    """(C, m) one-hot matrix: row i is 1 where labels == i."""
    C = tf.constant(C, name="C")
    one_hot_matrix = tf.one_hot(labels, C, axis=0)
    sess = tf.Session()
    one_hot = sess.run(one_hot_matrix)
    sess.close()
    return one_hot


def ones(shape):
    """An array of ones of the given shape, through tf.ones."""
    ones = tf.ones(shape)
    sess = tf.Session()
    ones = sess.run(ones)
    sess.close()
    return ones


def minimize_quadratic(num_steps=1000, coefficients=None):
    """The lecture's framework example: minimize J(w) = w**2 - 10w + 25 with gradient descent (0.01).

    With ``coefficients`` (3,) or (3, 1), J(w) = c0*w**2 + c1*w + c2 and the
    coefficients are fed through a [3, 1] placeholder.
    Returns:
        (w before training, w after one step, w after ``num_steps`` steps).
    """
    w = tf.Variable(0, dtype=tf.float32)
    feed = {}
    if coefficients is None:
        J = w ** 2 - 10 * w + 25
    else:
        x = tf.placeholder(tf.float32, [3, 1])
        J = x[0][0] * w ** 2 + x[1][0] * w + x[2][0]
        feed = {x: np.asarray(coefficients, dtype=np.float32).reshape(3, 1)}
    train = tf.train.GradientDescentOptimizer(0.01).minimize(J)
    with tf.Session() as session:
        session.run(tf.global_variables_initializer())
        w0 = session.run(w)
        session.run(train, feed_dict=feed)
        w1 = session.run(w)
        for _ in range(num_steps - 1):
            session.run(train, feed_dict=feed)
        return w0, w1, session.run(w)


# --- 2. Building a neural network in TensorFlow --------------------------------

def create_placeholders(n_x, n_y):
    """X: (n_x, None) named "X:0", Y: (n_y, None) named "Y:0", float32."""
    return network.create_placeholders(n_x, n_y)


def initialize_parameters():
    """W1 (25, 12288), b1 (25, 1), W2 (12, 25), b2 (12, 1), W3 (6, 12), b3 (6, 1); Xavier seed 1."""
    tf.set_random_seed(1)
    return network.initialize_parameters([12288, 25, 12, 6])


def forward_propagation(X, parameters):
    """LINEAR -> RELU -> LINEAR -> RELU -> LINEAR; returns Z3 ("Add_2:0" in a fresh graph)."""
    return network.forward_propagation(X, parameters)


def compute_cost(Z3, Y):
    """Mean softmax cross-entropy of Z3 (6, m) against one-hot Y (6, m) ("Mean:0")."""
    return network.compute_cost(Z3, Y)


def model(X_train, Y_train, X_test, Y_test, learning_rate=0.0001,
          num_epochs=1500, minibatch_size=32, print_cost=True):
    """The course's three-layer model: LINEAR->RELU->LINEAR->RELU->LINEAR->SOFTMAX, Adam, minibatches.

    Args:
        X_train (12288, 1080), Y_train (6, 1080), X_test (12288, 120), Y_test (6, 120).
    Returns:
        parameters: dict of trained NumPy arrays W1 ... b3.
    """
    ops.reset_default_graph()
    tf.set_random_seed(1)
    seed = 3
    (n_x, m) = X_train.shape
    n_y = Y_train.shape[0]
    costs = []

    X, Y = create_placeholders(n_x, n_y)
    parameters = initialize_parameters()
    Z3 = forward_propagation(X, parameters)
    cost = compute_cost(Z3, Y)
    optimizer = tf.train.AdamOptimizer(learning_rate=learning_rate).minimize(cost)
    init = tf.global_variables_initializer()

    with tf.Session() as sess:
        sess.run(init)
        for epoch in range(num_epochs):
            seed = seed + 1
            minibatch_costs = feed_epoch(sess, optimizer, cost, X, Y, X_train, Y_train,
                                         minibatch_size, seed)
            cost_value = epoch_cost(minibatch_costs, m, minibatch_size)
            if print_cost and epoch % 100 == 0:
                print("Cost after epoch %i: %f" % (epoch, cost_value))
            if print_cost and epoch % 5 == 0:
                costs.append(cost_value)

        if print_cost:
            plot_costs(costs, learning_rate, per="per fives")

        parameters = sess.run(parameters)
        print("Parameters have been trained!")
        correct_prediction = tf.equal(tf.argmax(Z3), tf.argmax(Y))
        accuracy = tf.reduce_mean(tf.cast(correct_prediction, "float"))
        print("Train Accuracy:", accuracy.eval({X: X_train, Y: Y_train}))
        print("Test Accuracy:", accuracy.eval({X: X_test, Y: Y_test}))
        return parameters
