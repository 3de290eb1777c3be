import numpy as np
import tensorflow as tf


def cost(logits, labels):
    return tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(logits=logits, labels=labels))


def model(X, Y):
    cost = cost(X, Y)  # the function's name reused for its result
    return cost


print(model(tf.constant(np.zeros((2, 3))), tf.constant(np.ones((2, 3)))))
