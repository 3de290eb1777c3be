"""Week 3 as a script: one epoch of the three-layer network on SIGNS."""
import numpy as np
import tensorflow as tf
from dl_02.dl_02_03.tf_utils import load_dataset, random_mini_batches, convert_to_one_hot

X_train_orig, Y_train_orig, _, _, classes = load_dataset()
X_train = X_train_orig.reshape(X_train_orig.shape[0], -1).T / 255.
Y_train = convert_to_one_hot(Y_train_orig, len(classes))

tf.set_random_seed(1)
X = tf.placeholder(tf.float32, [12288, None])
Y = tf.placeholder(tf.float32, [6, None])
W1 = tf.get_variable("W1", [6, 12288], initializer=tf.contrib.layers.xavier_initializer(seed=1))
b1 = tf.get_variable("b1", [6, 1], initializer=tf.zeros_initializer())
Z1 = tf.add(tf.matmul(W1, X), b1)
cost = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(logits=tf.transpose(Z1), labels=tf.transpose(Y)))
step = tf.train.AdamOptimizer(0.001).minimize(cost)
with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    for batch_X, batch_Y in random_mini_batches(X_train, Y_train, 64, seed=1):
        _, c = sess.run([step, cost], {X: batch_X, Y: batch_Y})
    print("cost after one epoch: %f" % c)
