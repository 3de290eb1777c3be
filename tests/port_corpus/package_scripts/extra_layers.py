import numpy as np
import tensorflow as tf

X = tf.placeholder(tf.float32, [None, 12288])
Z1 = tf.contrib.layers.fully_connected(X, 25, activation_fn=None)
A1 = tf.nn.relu(tf.layers.batch_normalization(Z1, training=True))
print(A1)
