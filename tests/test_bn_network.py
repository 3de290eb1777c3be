"""Batch norm, dropout and L2 inside the network: CLI, optimizers, engines, resume, predict, refusals."""
import contextlib
import io
import json
import math
import subprocess
import sys

import numpy as np
import pytest
import tensorflow.compat.v1 as tf

from conftest import balanced
from signs_model import cli, train
from signs_model.config import TrainConfig
from signs_model.errors import SignsError
from signs_model.atomic import read_csv
from signs_model.predict import Predictor

from tolerances import softmax_atol

BN_KEYS_25_12 = ["W1", "W2", "W3", "b3", "bn1/beta", "bn1/gamma", "bn1/moving_mean",
                 "bn1/moving_variance", "bn2/beta", "bn2/gamma", "bn2/moving_mean",
                 "bn2/moving_variance"]


@pytest.fixture(scope="module")
def small(signs):
    """20 training examples of each class (120 columns): quick, and every class is present."""
    return balanced(signs, 20)


@pytest.fixture(scope="module")
def bn_run(data_dir, tmp_path_factory):
    """``signs train --batch-norm`` for 3 epochs on the full training set: (run folder, code, out, err)."""
    run = tmp_path_factory.mktemp("bn") / "run"
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        # lr 0.01: big enough weights that float32 rounding shows (see the alone/batch test)
        code = cli.main(["train", "--batch-norm", "--epochs", "3", "--learning-rate", "0.01",
                         "--data-dir", str(data_dir), "--out", str(run), "--no-progress",
                         "--print-every", "1", "--checkpoint-every", "2"])
    return run, code, out.getvalue(), err.getvalue()


# --- the CLI and the run folder ------------------------------------------------------

def test_cli_train_batch_norm_writes_a_complete_run(bn_run):
    run, code, out, err = bn_run
    assert code == 0, err
    assert "Train Accuracy:" in out and "Test Accuracy:" in out
    assert [line.startswith("Cost after epoch") for line in out.splitlines()].count(True) == 3
    params = json.loads((run / "params.json").read_text())
    assert params["batch_norm"] is True and params["num_epochs"] == 3
    assert [int(r["epoch"]) for r in read_csv(run / "costs.csv")] == [0, 1, 2]
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["epochs"] == 3 and 0 <= metrics["test_accuracy"] <= 1
    assert (run / "cost.png").stat().st_size > 1000
    assert (run / "checkpoints" / "checkpoint").is_file()
    assert list(run.glob("events.out.tfevents.*"))
    with np.load(run / "parameters.npz") as f:
        # the hidden layers' b is gone (beta replaces it); the output layer keeps b3
        assert sorted(f) == BN_KEYS_25_12
        assert f["bn1/moving_mean"].shape == (25, 1) and f["bn2/gamma"].shape == (12, 1)
        assert np.any(f["bn1/moving_mean"] != 0)  # the moving averages were updated
        assert np.any(f["bn1/moving_variance"] != 1)


def test_cli_predict_a_batch_norm_run(bn_run, own_images, run_cli):
    run, code, _, _ = bn_run
    assert code == 0
    code, out, err = run_cli("predict", "--run", run, "--json", *own_images)
    assert code == 0, err
    results = [json.loads(line) for line in out.splitlines()]
    assert len(results) == len(own_images)
    for r in results:
        assert 0 <= r["digit"] <= 5 and abs(sum(r["probabilities"]) - 1) < 1e-4


def test_one_image_alone_or_in_a_batch_gives_the_same_probabilities(bn_run, signs):
    run, code, _, _ = bn_run
    assert code == 0
    predictor = Predictor(run)
    try:
        X = signs.X_test[:, :24]
        batch = predictor.probabilities_of(X)
        other_batch = predictor.probabilities_of(X[:, ::-1])[:, ::-1]  # other neighbours
        alone = np.hstack([predictor.probabilities_of(X[:, j:j + 1]) for j in range(X.shape[1])])
        # Equal up to float32 rounding: other batch widths may take other kernels (CI once
        # saw 1.2e-6), so the tolerance comes from the logits' size and the 12288-term sums.
        atol = softmax_atol(predictor.session.run(predictor.logits, {predictor.X: X}), X.shape[0])
        np.testing.assert_allclose(alone, batch, atol=atol, rtol=0)
        np.testing.assert_allclose(other_batch, batch, atol=atol, rtol=0)
        assert np.abs(batch - batch[:, ::-1]).max() > 100 * atol  # other images: far apart
    finally:
        predictor.close()


# --- every optimizer, both engines, hidden b ----------------------------------------

@pytest.mark.parametrize("optimizer, learning_rate", [("gd", 0.05), ("momentum", 0.01),
                                                      ("rmsprop", 1e-3), ("adam", 1e-3)])
def test_batch_norm_trains_with_every_optimizer(small, optimizer, learning_rate):
    X, Y = small
    cfg = TrainConfig(num_epochs=4, batch_norm=True, optimizer=optimizer,
                      learning_rate=learning_rate)
    costs = train.train(cfg, X, Y, progress=False)["costs"]
    assert len(costs) == 4 and all(math.isfinite(c) for c in costs)
    assert costs[-1] < costs[0], costs
    assert sum(b < a for a, b in zip(costs, costs[1:])) >= 2, costs  # mostly going down


@pytest.mark.parametrize("changes", [dict(batch_norm=True),
                                     dict(l2_lambda=0.5),
                                     dict(batch_norm=True, l2_lambda=0.5, hidden_units=(10, 8, 7),
                                          optimizer="momentum", learning_rate=0.01)],
                         ids=["bn", "l2", "bn+l2, 3 hidden layers"])
def test_fast_and_feed_engines_agree(small, changes):
    X, Y = small
    cfg = TrainConfig(num_epochs=3, learning_rate=1e-3).replace(**changes)
    fast = train.train(cfg, X, Y, progress=False)
    feed = train.train(cfg, X, Y, engine="feed", progress=False)
    assert np.abs(np.subtract(fast["costs"], feed["costs"])).max() <= 1e-5
    assert sorted(fast["parameters"]) == sorted(feed["parameters"])
    for name, value in fast["parameters"].items():  # incl. the moving averages
        # The loops' kernels round differently in float32, and Adam divides by sqrt(v):
        # a weight whose gradient is ~0 takes a rounding-sensitive step of up to lr.
        np.testing.assert_allclose(value, feed["parameters"][name], rtol=1e-3,
                                   atol=0.1 * cfg.learning_rate, err_msg=name)
    L = len(cfg.hidden_units) + 1
    biases = sorted(k for k in fast["parameters"] if k.startswith("b") and "/" not in k)
    assert biases == ([f"b{L}"] if cfg.batch_norm else [f"b{l}" for l in range(1, L + 1)])
    if cfg.batch_norm:
        assert {f"bn{l}/gamma" for l in range(1, L)} <= set(fast["parameters"])
        assert f"bn{L}/gamma" not in fast["parameters"]  # never on the output layer


# --- checkpoints and resume -----------------------------------------------------------

def test_batch_norm_resume_2_plus_2_equals_4_epochs(small, tmp_path):
    X, Y = small
    cfg = TrainConfig(num_epochs=2, batch_norm=True, learning_rate=1e-3)
    split, whole = tmp_path / "split", tmp_path / "whole"
    train.train(cfg, X, Y, run_dir=split, progress=False)
    resumed = train.train(train.resume_config(split, epochs=2), X, Y, run_dir=split,
                          resume=True, progress=False)
    straight = train.train(cfg.replace(num_epochs=4), X, Y, run_dir=whole, progress=False)
    assert len(resumed["costs"]) == 4
    np.testing.assert_allclose(resumed["costs"], straight["costs"], atol=1e-6, rtol=0)
    with np.load(split / "parameters.npz") as a, np.load(whole / "parameters.npz") as b:
        assert sorted(a) == sorted(b) == BN_KEYS_25_12
        for name in a:  # moving averages and gamma/beta came back from the checkpoint
            np.testing.assert_allclose(a[name], b[name], atol=1e-6, err_msg=name)
    assert json.loads((split / "metrics.json").read_text())["epochs"] == 4


# --- dropout only while training ------------------------------------------------------

def test_dropout_is_off_at_test_time(small):
    X, Y = small
    cfg = TrainConfig(keep_prob=0.5)
    with tf.Graph().as_default():
        spec = train.build_graph(cfg, X.shape[0], Y.shape[0])
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            feed = {spec["X"]: X, spec["Y"]: Y}
            accuracies = [sess.run(spec["accuracy"], feed) for _ in range(2)]
            test_mode = [sess.run(spec["ZL"], feed) for _ in range(2)]
            train_mode = [sess.run(spec["ZL"], {**feed, spec["training"]: True, spec["step"]: k})
                          for k in (0, 0, 1)]
    assert accuracies[0] == accuracies[1]
    np.testing.assert_array_equal(test_mode[0], test_mode[1])
    assert not np.allclose(train_mode[0], test_mode[0])  # units dropped while training
    # The mask is a function of the step (so a resumed run draws the same masks): the same
    # step gives the same mask, the next step a new one.
    np.testing.assert_array_equal(train_mode[0], train_mode[1])
    assert not np.allclose(train_mode[0], train_mode[2])


def test_trained_dropout_model_evaluates_deterministically(small):
    X, Y = small
    cfg = TrainConfig(num_epochs=3, keep_prob=0.7, learning_rate=1e-3)
    result = train.train(cfg, X, Y, {"train": (X, Y)}, progress=False)
    plain = train.train(cfg.replace(keep_prob=1.0), X, Y, progress=False)
    assert result["costs"] != plain["costs"]  # the fast engine's loop does drop units
    # The reported accuracy is the dropout-free network's: recompute it from the weights.
    p = result["parameters"]
    A = X
    for l in (1, 2):
        A = np.maximum(0, p[f"W{l}"] @ A + p[f"b{l}"])
    ZL = p["W3"] @ A + p["b3"]
    accuracy = np.mean(np.argmax(ZL, axis=0) == np.argmax(Y, axis=0))
    assert result["metrics"]["train_accuracy"] == pytest.approx(accuracy, abs=1e-6)


# --- refusals ---------------------------------------------------------------------------

@pytest.mark.parametrize("field, value, expected", [
    ("bn_momentum", 1.0, "in [0, 1)"), ("bn_momentum", -0.1, "in [0, 1)"),
    ("bn_momentum", 1.5, "in [0, 1)"), ("epsilon", 0.0, "in (0, "), ("epsilon", -1e-8, "in (0, "),
    ("keep_prob", 0.0, "in (0, 1]"), ("keep_prob", 1.5, "in (0, 1]"),
    ("keep_prob", -0.2, "in (0, 1]"), ("l2_lambda", -1.0, "in [0, "),
    ("l2_lambda", float("nan"), "in [0, ")])
def test_config_refuses_bad_values(field, value, expected):
    with pytest.raises(SignsError) as info:
        TrainConfig(**{field: value})
    message = str(info.value)
    assert message.startswith(f"{field} must be") and expected in message and "got" in message


def test_cli_refuses_bad_keep_prob(data_dir):
    """In a real process: exit 2 and one line on stderr, no traceback, nothing on stdout."""
    proc = subprocess.run([sys.executable, "-m", "signs_model.cli", "train", "--data-dir",
                           str(data_dir), "--keep-prob", "0"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.splitlines() == ["signs: error: argument --keep-prob: keep_prob must be a number in (0, 1], got 0.0"]
    assert proc.stdout == ""


def test_cli_refuses_negative_l2_lambda(data_dir, run_cli):
    code, out, err = run_cli("train", "--data-dir", data_dir, "--l2-lambda", "-1")
    assert code == 2
    assert err.splitlines() == ["signs: error: argument --l2-lambda: l2_lambda must be a number in [0, 3.403e+38] "
                             "(the network computes in float32), got -1.0"]
    assert out == ""
