"""Tests of signs_model.batchnorm.

Checked against (a) a NumPy version of the lecture's formulas and (b) Keras'
``BatchNormalization`` run eagerly in a subprocess (the package switches the
test process to graph mode for good), plus the two modes, a single example
at inference and the argument checks.
"""
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import tensorflow.compat.v1 as tf

from signs_model.batchnorm import batch_norm
from signs_model.errors import SignsError

UNITS, M = 5, 16
MOMENTUM, EPSILON = 0.8, 1e-3  # Keras' epsilon; a low momentum so the averages move


# ---------------------------------------------------------------- references

def numpy_moments(Z):
    """Batch mean and biased variance of each row of Z (units, m)."""
    mu = Z.mean(axis=1, keepdims=True)
    return mu, ((Z - mu) ** 2).mean(axis=1, keepdims=True)


def numpy_batch_norm(Z, gamma, beta, mu, sigma2, epsilon=EPSILON):
    return gamma * (Z - mu) / np.sqrt(sigma2 + epsilon) + beta


def make_batches(seed, n, m=M):
    """n float32 batches (UNITS, m); units with different offsets and scales."""
    rng = np.random.RandomState(seed)
    shift = rng.uniform(-2.0, 2.0, (UNITS, 1))
    scale = rng.uniform(0.5, 3.0, (UNITS, 1))
    return [(shift + scale * rng.randn(UNITS, m)).astype(np.float32) for _ in range(n)]


def random_gamma_beta(seed):
    rng = np.random.RandomState(seed)
    gamma = rng.uniform(0.5, 2.0, (UNITS, 1)).astype(np.float32)
    beta = rng.uniform(-1.0, 1.0, (UNITS, 1)).astype(np.float32)
    return gamma, beta


# ---------------------------------------------------------------- graph side

class Net:
    """One graph: Z placeholder -> batch_norm(training placeholder) -> sum(G * Z_tilde)."""

    def __init__(self, gamma=None, beta=None):
        self.graph = tf.Graph()
        with self.graph.as_default():
            self.Z = tf.placeholder(tf.float32, (UNITS, None), name="Z")
            self.G = tf.placeholder(tf.float32, (UNITS, None), name="G")
            self.training = tf.placeholder_with_default(False, (), name="training")
            self.Z_tilde = batch_norm(self.Z, self.training, momentum=MOMENTUM, epsilon=EPSILON)
            self.updates = tf.get_collection(tf.GraphKeys.UPDATE_OPS)
            self.vars = {v.op.name.split("/")[-1]: v for v in tf.global_variables()}
            loss = tf.reduce_sum(self.G * self.Z_tilde)
            self.grads = tf.gradients(loss, [self.Z, self.vars["gamma"], self.vars["beta"]])
            init = tf.global_variables_initializer()
        self.sess = tf.Session(graph=self.graph)
        self.sess.run(init)
        if gamma is not None:
            self.vars["gamma"].load(gamma, self.sess)
            self.vars["beta"].load(beta, self.sess)

    def run(self, Z, training, G=None, update=True):
        """Return (Z_tilde, [dZ, dgamma, dbeta]); run the update ops if asked."""
        G = np.ones_like(Z) if G is None else G
        fetches = [self.Z_tilde, self.grads, self.updates if update else []]
        out, grads, _ = self.sess.run(fetches, {self.Z: Z, self.G: G, self.training: training})
        return out, grads

    def moving(self):
        return self.sess.run([self.vars["moving_mean"], self.vars["moving_variance"]])

    def close(self):
        self.sess.close()


@pytest.fixture
def net():
    n = Net()
    yield n
    n.close()


# ------------------------------------------------------------- (a) NumPy

def test_training_mode_matches_numpy_formulas():
    gamma, beta = random_gamma_beta(1)
    net = Net(gamma, beta)
    moving_mean, moving_var = np.zeros((UNITS, 1)), np.ones((UNITS, 1))
    for Z in make_batches(seed=2, n=4):
        out, _ = net.run(Z, training=True)
        mu, sigma2 = numpy_moments(Z.astype(np.float64))
        np.testing.assert_allclose(out, numpy_batch_norm(Z, gamma, beta, mu, sigma2),
                                   rtol=1e-5, atol=1e-5)
        # After normalization (before gamma, beta) each unit has mean 0, variance ~1.
        Z_norm = (out - beta) / gamma
        np.testing.assert_allclose(Z_norm.mean(axis=1), 0.0, atol=1e-5)
        np.testing.assert_allclose(Z_norm.var(axis=1), sigma2.ravel() / (sigma2.ravel() + EPSILON),
                                   rtol=1e-4)

        moving_mean = MOMENTUM * moving_mean + (1 - MOMENTUM) * mu
        moving_var = MOMENTUM * moving_var + (1 - MOMENTUM) * sigma2
        got_mean, got_var = net.moving()
        np.testing.assert_allclose(got_mean, moving_mean, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(got_var, moving_var, rtol=1e-5, atol=1e-6)
    net.close()


def test_inference_mode_uses_the_moving_averages(net):
    for Z in make_batches(seed=3, n=3):
        net.run(Z, training=True)
    moving_mean, moving_var = net.moving()
    assert not np.allclose(moving_mean, 0.0)  # the averages did move

    (Z_test,) = make_batches(seed=4, n=1)
    out, _ = net.run(Z_test, training=False)
    expected = numpy_batch_norm(Z_test, 1.0, 0.0, moving_mean, moving_var)
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-5)
    # Not the batch statistics of the test batch.
    mu, sigma2 = numpy_moments(Z_test)
    assert not np.allclose(out, numpy_batch_norm(Z_test, 1.0, 0.0, mu, sigma2), atol=1e-2)


# ------------------------------------------------------------- (b) Keras

KERAS_SCRIPT = textwrap.dedent("""
    import os, sys
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
    import numpy as np
    import tensorflow as tf

    assert tf.executing_eagerly()
    data = np.load(sys.argv[1])
    layer = tf.keras.layers.BatchNormalization(
        axis=-1, momentum=float(data["momentum"]), epsilon=float(data["epsilon"]))
    layer.build((None, data["gamma"].size))
    layer.gamma.assign(data["gamma"])
    layer.beta.assign(data["beta"])

    result = {}
    for mode, training in (("train", True), ("infer", False)):
        outs, grads, means, variances = [], [], [], []
        for x, g in zip(data[mode + "_x"], data[mode + "_g"]):
            with tf.GradientTape() as tape:
                x = tf.constant(x)
                tape.watch(x)
                y = layer(x, training=training)
                loss = tf.reduce_sum(g * y)
            dx, dgamma, dbeta = tape.gradient(loss, [x, layer.gamma, layer.beta])
            outs.append(y.numpy())
            grads.append(np.concatenate([dx.numpy().ravel(), dgamma.numpy(), dbeta.numpy()]))
            means.append(np.array(layer.moving_mean))
            variances.append(np.array(layer.moving_variance))
        result[mode + "_out"] = np.stack(outs)
        result[mode + "_grads"] = np.stack(grads)
        result[mode + "_moving_mean"] = np.stack(means)
        result[mode + "_moving_variance"] = np.stack(variances)
    np.savez(sys.argv[2], **result)
""")


@pytest.fixture(scope="module")
def keras_case(tmp_path_factory):
    """Inputs (course layout) and Keras' eager results (Keras layout, (m, units))."""
    tmp = tmp_path_factory.mktemp("keras")
    gamma, beta = random_gamma_beta(5)
    rng = np.random.RandomState(6)
    case = {
        "gamma": gamma, "beta": beta,
        "train_x": make_batches(seed=7, n=3), "infer_x": make_batches(seed=8, n=2),
    }
    for mode in ("train", "infer"):
        case[mode + "_g"] = [rng.randn(*x.shape).astype(np.float32) for x in case[mode + "_x"]]
    np.savez(
        tmp / "in.npz", momentum=MOMENTUM, epsilon=EPSILON,
        gamma=gamma.ravel(), beta=beta.ravel(),
        **{k: np.stack(case[k]).transpose(0, 2, 1)
           for k in ("train_x", "train_g", "infer_x", "infer_g")})
    proc = subprocess.run([sys.executable, "-c", KERAS_SCRIPT, str(tmp / "in.npz"),
                           str(tmp / "out.npz")], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    with np.load(tmp / "out.npz") as keras:
        return case, dict(keras)


@pytest.mark.parametrize("mode", ["train", "infer"])
def test_matches_keras_values_gradients_and_moving_stats(keras_case, mode):
    case, keras = keras_case
    net = Net(case["gamma"], case["beta"])
    for x in case["train_x"]:  # the same history of updates as the Keras layer
        if mode == "infer":
            net.run(x, training=True, G=np.zeros_like(x))
    for i, (x, g) in enumerate(zip(case[mode + "_x"], case[mode + "_g"])):
        out, (dZ, dgamma, dbeta) = net.run(x, training=(mode == "train"), G=g)
        np.testing.assert_allclose(out, keras[mode + "_out"][i].T, rtol=1e-5, atol=1e-5)
        grads = np.concatenate([dZ.T.ravel(), dgamma.ravel(), dbeta.ravel()])
        np.testing.assert_allclose(grads, keras[mode + "_grads"][i], rtol=1e-5, atol=1e-5)
        mean, var = net.moving()
        np.testing.assert_allclose(mean.ravel(), keras[mode + "_moving_mean"][i], rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(var.ravel(), keras[mode + "_moving_variance"][i], rtol=1e-5, atol=1e-6)
    net.close()


# ------------------------------------------------------------- (c) modes

def test_variables_names_shapes_and_initial_values():
    with tf.Graph().as_default():
        batch_norm(tf.zeros((UNITS, 4)), training=True)
        batch_norm(tf.zeros((UNITS, 4)), training=True)
        names = sorted(v.name for v in tf.global_variables())
        trainable = sorted(v.name for v in tf.trainable_variables())
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            values = {v.name: sess.run(v) for v in tf.global_variables()}
    assert names == sorted(f"{scope}/{var}:0" for scope in ("batch_norm", "batch_norm_1")
                           for var in ("gamma", "beta", "moving_mean", "moving_variance"))
    assert trainable == ["batch_norm/beta:0", "batch_norm/gamma:0",
                         "batch_norm_1/beta:0", "batch_norm_1/gamma:0"]
    assert all(v.shape == (UNITS, 1) for v in values.values())
    np.testing.assert_array_equal(values["batch_norm/gamma:0"], 1.0)
    np.testing.assert_array_equal(values["batch_norm/beta:0"], 0.0)
    np.testing.assert_array_equal(values["batch_norm/moving_mean:0"], 0.0)
    np.testing.assert_array_equal(values["batch_norm/moving_variance:0"], 1.0)


@pytest.mark.parametrize("training", [True, False])
def test_python_bool_training_builds_one_mode(training):
    (Z,) = make_batches(seed=9, n=1)
    with tf.Graph().as_default():
        Z_tilde = batch_norm(tf.constant(Z), training, momentum=MOMENTUM, epsilon=EPSILON)
        updates = tf.get_collection(tf.GraphKeys.UPDATE_OPS)
        moving = [v for v in tf.global_variables() if "moving" in v.name]
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            out, _ = sess.run([Z_tilde, updates])
            mean, var = sess.run(moving)
    mu, sigma2 = numpy_moments(Z)
    if training:
        assert len(updates) == 2
        np.testing.assert_allclose(out, numpy_batch_norm(Z, 1.0, 0.0, mu, sigma2), rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(mean, (1 - MOMENTUM) * mu, rtol=1e-5, atol=1e-6)
    else:
        assert updates == []
        np.testing.assert_allclose(out, Z / np.sqrt(1.0 + EPSILON), rtol=1e-6)
        np.testing.assert_array_equal(mean, 0.0)
        np.testing.assert_array_equal(var, 1.0)


def test_one_graph_serves_both_modes(net):
    assert len(net.updates) == 2
    assert net.graph.get_collection(tf.GraphKeys.UPDATE_OPS) == net.updates
    Z_a, Z_b = make_batches(seed=10, n=2)

    # Inference: running the update ops leaves the statistics alone.
    out, _ = net.run(Z_a, training=False, update=True)
    mean, var = net.moving()
    np.testing.assert_array_equal(mean, 0.0)
    np.testing.assert_array_equal(var, 1.0)
    np.testing.assert_allclose(out, Z_a / np.sqrt(1.0 + EPSILON), rtol=1e-6)

    # Training in the same graph: batch statistics, and the averages move.
    out, _ = net.run(Z_a, training=True, update=True)
    mu, sigma2 = numpy_moments(Z_a)
    np.testing.assert_allclose(out, numpy_batch_norm(Z_a, 1.0, 0.0, mu, sigma2), rtol=1e-5, atol=1e-5)
    mean, var = net.moving()
    np.testing.assert_allclose(mean, (1 - MOMENTUM) * mu, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(var, MOMENTUM + (1 - MOMENTUM) * sigma2, rtol=1e-5)

    # Training without running the update ops leaves them too (TF1 semantics).
    net.run(Z_b, training=True, update=False)
    np.testing.assert_array_equal(net.moving()[0], mean)

    # Back to inference: normalized with the moved averages, which stay put.
    out, _ = net.run(Z_b, training=False, update=True)
    np.testing.assert_allclose(out, numpy_batch_norm(Z_b, 1.0, 0.0, mean, var), rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(net.moving()[0], mean)
    np.testing.assert_array_equal(net.moving()[1], var)


# ------------------------------------------------------------- (d) one example

def test_single_example_at_inference_equals_its_column_in_a_batch(net):
    for Z in make_batches(seed=11, n=3):
        net.run(Z, training=True)
    (Z_test,) = make_batches(seed=12, n=1)
    batch_out, _ = net.run(Z_test, training=False)
    for j in (0, 7, M - 1):
        single_out, _ = net.run(Z_test[:, [j]], training=False)
        assert single_out.shape == (UNITS, 1)
        assert np.all(np.isfinite(single_out))
        # Inference is elementwise, (Z - mu) / sqrt(sigma2 + eps) with gamma 1 and beta 0:
        # each op rounds relative to its result, but one column and a batch may take other
        # SIMD paths (sqrt and divide, or a fused rsqrt). A few ulps of the output each way.
        np.testing.assert_allclose(single_out[:, 0], batch_out[:, j],
                                   rtol=8 * np.finfo(np.float32).eps, atol=0)


# ------------------------------------------------------------- (e) bad arguments

@pytest.mark.parametrize("kwargs, argument", [
    ({"momentum": 1.0}, "momentum"),
    ({"momentum": -0.1}, "momentum"),
    ({"momentum": 1.5}, "momentum"),
    ({"momentum": "0.9"}, "momentum"),
    ({"epsilon": 0}, "epsilon"),
    ({"epsilon": -1}, "epsilon"),
    ({"training": "yes"}, "training"),
    ({"training": "tensor_float"}, "training"),
    ({"Z": "rank1"}, "Z"),
    ({"Z": "unknown_units"}, "Z"),
    ({"Z": "int"}, "Z"),
])
def test_bad_arguments_raise_signs_error(kwargs, argument):
    with tf.Graph().as_default():
        args = {"Z": tf.zeros((UNITS, 4)), "training": True}
        args.update(kwargs)
        special = {
            "rank1": tf.zeros((UNITS,)),
            "unknown_units": tf.placeholder(tf.float32, (None, 4)),
            "int": tf.zeros((UNITS, 4), tf.int32),
            "tensor_float": tf.constant(1.0),
        }
        for key in ("Z", "training"):
            if isinstance(args[key], str) and args[key] in special:
                args[key] = special[args[key]]
        with pytest.raises(SignsError, match=f"^{argument} must") as info:
            batch_norm(**args)
        assert "\n" not in str(info.value)
        assert tf.global_variables() == []  # nothing half-built
