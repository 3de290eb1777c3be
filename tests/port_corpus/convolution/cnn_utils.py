"""A learner's copy of the convolution assignment's helper, written for TensorFlow 1.x."""
import math

import h5py
import numpy as np
import tensorflow as tf
from tensorflow.python.framework import ops


def load_dataset():
    with h5py.File("datasets/train_signs.h5", "r") as train, h5py.File("datasets/test_signs.h5", "r") as test:
        return (np.array(train["train_set_x"][:]), np.array(train["train_set_y"][:]).reshape(1, -1),
                np.array(test["test_set_x"][:]), np.array(test["test_set_y"][:]).reshape(1, -1),
                np.array(test["list_classes"][:]))


def random_mini_batches(X, Y, mini_batch_size=64, seed=0):
    np.random.seed(seed)
    order = np.random.permutation(X.shape[0])
    X, Y = X[order, :, :, :], Y[order, :]
    return [(X[k:k + mini_batch_size], Y[k:k + mini_batch_size])
            for k in range(0, X.shape[0], mini_batch_size)]


def convert_to_one_hot(Y, C):
    return np.eye(C)[Y.reshape(-1)].T


def forward_propagation_for_predict(X, parameters):
    A = X
    for l in (1, 2, 3):
        Z = tf.add(tf.matmul(parameters["W%d" % l], A), parameters["b%d" % l])
        A = tf.nn.relu(Z)
    return Z


def predict(X, parameters):
    params = {k: tf.convert_to_tensor(v) for k, v in parameters.items()}
    x = tf.placeholder("float", [12288, 1])
    with tf.Session() as sess:
        return sess.run(tf.argmax(forward_propagation_for_predict(x, params)), feed_dict={x: X})
