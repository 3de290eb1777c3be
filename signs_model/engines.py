"""Engines: how the trainer runs one epoch of minibatch steps. Both take the same
minibatches in the same order (the course's seeds: epoch e shuffles with
``seed + 1 + e``) through the same optimizer, so they print the same costs.

* ``feed``: the course's loop, one ``sess.run`` with a ``feed_dict`` per minibatch;
* ``fast``: the training data lives in the graph (float32, examples in rows so a
  minibatch is a contiguous gather) and a ``tf.while_loop`` runs a whole epoch
  of steps in one ``sess.run``; only the epoch's permutation is fed.

An engine has one interface: ``build`` (add its ops to the training graph),
``load_data`` (once per session) and ``run_epoch`` (the minibatch costs).
The course's ``model()`` uses ``feed_epoch`` and ``epoch_cost`` from here.
"""
import math

import numpy as np
import tensorflow.compat.v1 as tf

from .data import minibatch_permutation, random_mini_batches


def feed_epoch(sess, train_op, cost, X, Y, X_train, Y_train, minibatch_size, seed, extra_feed=None,
               step=None, first_step=0):
    """One epoch of the course loop: shuffle with ``seed``, one ``sess.run`` per minibatch.

    Args:
        step, first_step: a scalar placeholder fed ``first_step + k`` at minibatch k
            (the trainer's dropout step); None feeds nothing, as the course did.
    Returns:
        list of the minibatch costs (each computed before that step's update).
    """
    costs = []
    for k, (minibatch_X, minibatch_Y) in enumerate(
            random_mini_batches(X_train, Y_train, minibatch_size, seed)):
        feed = {X: minibatch_X, Y: minibatch_Y, **(extra_feed or {})}
        if step is not None:
            feed[step] = first_step + k
        _, minibatch_cost = sess.run([train_op, cost], feed_dict=feed)
        costs.append(minibatch_cost)
    return costs


def epoch_cost(minibatch_costs, m, minibatch_size):
    """The course's epoch cost: each minibatch cost divided by int(m / minibatch_size), summed.

    (With a smaller last minibatch this divides by one fewer than the number of
    minibatches; we keep the course's figure so printed costs compare.)
    """
    num_minibatches = int(m / minibatch_size)
    total = 0.0
    for c in minibatch_costs:
        total += float(c) / num_minibatches
    return total


class FeedEngine:
    """The course's loop: the minibatches are cut in NumPy and fed one by one."""
    name = "feed"

    def build(self, cfg, n_x, n_y, m, cost_of, optimizer):
        return {}  # the training graph's own train_op is all it runs

    def load_data(self, sess, spec, X_train, Y_train):
        pass

    def run_epoch(self, sess, spec, cfg, epoch, X_train, Y_train, learning_rate):
        steps = math.ceil(X_train.shape[1] / cfg.minibatch_size)
        feed = {spec["learning_rate"]: learning_rate, spec["training"]: True}
        return feed_epoch(sess, spec["train_op"], spec["cost"], spec["X"], spec["Y"], X_train,
                          Y_train, cfg.minibatch_size, cfg.seed + 1 + epoch, feed, spec["step"],
                          epoch * steps)


class FastEngine:
    """A whole epoch in one ``sess.run``: data in the graph, steps in a ``tf.while_loop``."""
    name = "fast"

    def build(self, cfg, n_x, n_y, m, cost_of, optimizer):
        b = cfg.minibatch_size
        num_batches = math.ceil(m / b)
        # Local variables: initialized from a feed once, never written to checkpoints.
        X_rows_in = tf.placeholder(tf.float32, (m, n_x))
        Y_in = tf.placeholder(tf.float32, (n_y, m))
        X_rows = tf.Variable(X_rows_in, trainable=False, name="train_X_rows",
                             collections=[tf.GraphKeys.LOCAL_VARIABLES])
        Y_all = tf.Variable(Y_in, trainable=False, name="train_Y",
                            collections=[tf.GraphKeys.LOCAL_VARIABLES])
        permutation = tf.placeholder(tf.int32, (m,), name="permutation")
        first_step = tf.placeholder_with_default(tf.constant(0, tf.int64), (), name="first_step")

        def minibatch(k):
            idx = permutation[k * b:(k + 1) * b]
            # Gathering rows is a contiguous copy; the transpose gives the course's
            # (n_x, b) minibatch bit for bit, so the matmuls see the same operands.
            # The no-op reshape keeps grappler from folding the transpose into the
            # first MatMul (transpose_b=True), a path twice as slow on CPU for these
            # skinny (25 x 12288) x (12288 x b) products.
            X = tf.reshape(tf.transpose(tf.gather(X_rows, idx)), [n_x, -1])
            return X, tf.gather(Y_all, idx, axis=1)

        def body(k, X, Y, minibatch_costs):
            n_updates = len(tf.get_collection(tf.GraphKeys.UPDATE_OPS))
            _, cost = cost_of(X, Y, True, first_step + tf.cast(k, tf.int64))
            with tf.control_dependencies(tf.get_collection(tf.GraphKeys.UPDATE_OPS)[n_updates:]):
                step = optimizer.minimize(cost)
            # The next minibatch is assembled while this step runs (it needs no weights).
            X_next, Y_next = minibatch(k + 1)
            with tf.control_dependencies([step]):
                return k + 1, tf.identity(X_next), tf.identity(Y_next), minibatch_costs.write(k, cost)

        n_updates = len(tf.get_collection(tf.GraphKeys.UPDATE_OPS))
        X0, Y0 = minibatch(0)
        _, _, _, costs = tf.while_loop(
            lambda k, *_: k < num_batches, body,
            [tf.constant(0), X0, Y0, tf.TensorArray(tf.float32, num_batches)],
            shape_invariants=[tf.TensorShape([]), tf.TensorShape([n_x, None]),
                              tf.TensorShape([n_y, None]), tf.TensorShape(None)],
            parallel_iterations=1)
        # The loop's BN updates are not runnable from outside the loop.
        del tf.get_collection_ref(tf.GraphKeys.UPDATE_OPS)[n_updates:]
        return {"epoch_costs": costs.stack(), "permutation": permutation, "first_step": first_step,
                "data_init": (X_rows.initializer, Y_all.initializer), "data_in": (X_rows_in, Y_in)}

    def load_data(self, sess, spec, X_train, Y_train):
        X_in, Y_in = spec["data_in"]
        sess.run(spec["data_init"], {X_in: np.ascontiguousarray(X_train.T, np.float32),
                                     Y_in: Y_train.astype(np.float32)})

    def run_epoch(self, sess, spec, cfg, epoch, X_train, Y_train, learning_rate):
        m = X_train.shape[1]
        return sess.run(spec["epoch_costs"], {
            spec["learning_rate"]: learning_rate,
            spec["permutation"]: minibatch_permutation(m, cfg.seed + 1 + epoch),
            spec["first_step"]: epoch * math.ceil(m / cfg.minibatch_size)})


ENGINES = {engine.name: engine for engine in (FastEngine(), FeedEngine())}
