"""signs_model.experiments: the good-range width, the grid, tiny real runs, the CLI."""
import math
import warnings

import numpy as np
import pytest

from conftest import balanced
from signs_model import errors, experiments, train
from signs_model.config import TrainConfig
from signs_model.errors import SignsError
from signs_model.atomic import read_csv

GRID = [1e-5, 1e-4, 1e-3, 1e-2, 1e-1]


# --- the width of the good learning-rate range, on synthetic accuracies -----------

@pytest.mark.parametrize("accuracies, low, high, decades, at_edge", [
    ([0.2, 0.9, 0.95, 1.0, 0.3], 1e-4, 1e-2, 2.0, False),     # 0.9 = 90% of 1.0 counts
    ([0.2, 0.89, 0.95, 1.0, 0.3], 1e-3, 1e-2, 1.0, False),    # 0.89 does not
    ([0.95, 0.5, 1.0, 0.5, 0.99], 1e-3, 1e-3, 0.0, False),    # good points apart: only contiguous
    ([0.95, np.nan, 1.0, 0.92, np.nan], 1e-3, 1e-2, 1.0, False),  # a diverged run ends the range
    ([1.0, 0.95, 0.2, 0.1, 0.1], 1e-5, 1e-4, 1.0, True),      # touches the smallest rate tried
    ([0.5, 0.5, 0.5, 0.5, 0.5], 1e-5, 1e-1, 4.0, True),       # flat: the whole grid
])
def test_good_range_width(accuracies, low, high, decades, at_edge):
    g = experiments.good_lr_range(GRID, accuracies)
    assert g.best == pytest.approx(np.nanmax(accuracies))
    assert g.low == pytest.approx(low) and g.high == pytest.approx(high)
    assert g.decades == pytest.approx(decades, abs=1e-12)
    assert g.at_edge is at_edge


def test_good_range_on_an_uneven_grid_and_another_fraction():
    g = experiments.good_lr_range([1e-4, 3e-4, 1e-3, 1e-2], [0.7, 0.8, 1.0, 0.6], fraction=0.7)
    assert (g.best_lr, g.low, g.high) == (1e-3, 1e-4, 1e-3)
    assert g.decades == pytest.approx(1.0)
    g = experiments.good_lr_range([1e-4, 3e-4, 1e-3, 1e-2], [0.7, 0.9, 1.0, 0.6])
    assert g.decades == pytest.approx(math.log10(1e-3 / 3e-4))


def test_good_range_when_every_run_diverged():
    g = experiments.good_lr_range(GRID, [np.nan] * 5)
    assert all(math.isnan(v) for v in (g.best, g.best_lr, g.low, g.high, g.decades))


@pytest.mark.parametrize("lrs, accuracies, message", [
    ([1e-3, 1e-4], [0.5, 0.6], "increasing"),
    ([0.0, 1e-4], [0.5, 0.6], "positive"),
    ([], [], "one or more"),
    ([1e-4, 1e-3], [0.5], "one value per learning rate"),
])
def test_good_range_refuses_bad_input(lrs, accuracies, message):
    with pytest.raises(SignsError, match=message):
        experiments.good_lr_range(lrs, accuracies)


def test_log_spaced_grid():
    lrs = experiments.log_spaced(1e-5, 1e-1, 7)
    assert lrs[0] == 1e-5 and lrs[-1] == 0.1 and lrs[3] == 1e-3
    assert np.allclose(np.diff(np.log10(lrs)), 4 / 6)
    for args, message in (((1e-1, 1e-5, 3), "smaller"), ((0, 1, 3), "lr_min"),
                          ((1e-5, 1e-1, 1), "points")):
        with pytest.raises(SignsError, match=message):
            experiments.log_spaced(*args)


# --- tiny real runs ---------------------------------------------------------------

# Two runs of the same configuration (same weights, minibatches and seeds) can differ only
# by float32 rounding: ~sqrt(12288) ulps (1.3e-5) of a cost near 2 per evaluation, carried
# through a few Adam steps. 1e-3 is far above that and far below what a regularizer changes.
SAME_RUN_TOLERANCE = 1e-3


def xavier_sum_of_squares(layer_dims):
    """Expected sum ||W||^2 over the layers at Xavier init: each W_l has n_l * n_(l-1) entries
    of variance 2 / (n_l + n_(l-1)) (uniform on +-sqrt(6 / (n_l + n_(l-1))))."""
    return sum(2 * n * n_prev / (n + n_prev) for n_prev, n in zip(layer_dims, layer_dims[1:]))


@pytest.fixture(scope="module")
def tiny(signs):
    """A stratified 180-example slice of the training set: 120 to train, 60 to judge."""
    from signs_model.data import dev_split

    return dev_split(*balanced(signs, 30), 1 / 3, seed=0)


def test_bn_lr_range_writes_csv_markdown_and_figure(tiny, tmp_path):
    X, Y, X_dev, Y_dev = tiny
    lrs = [1e-4, 1e-3, 1e-2]
    result = experiments.bn_lr_range(X, Y, X_dev, Y_dev, lrs, epochs=3, seed=3, out_dir=tmp_path)
    rows = read_csv(tmp_path / "lr_range.csv")
    assert list(rows[0]) == list(experiments.LR_RANGE_FIELDS)
    assert [(float(r["learning_rate"]), r["batch_norm"]) for r in rows] == \
        [(lr, bn) for bn in ("False", "True") for lr in lrs]
    assert all(r["status"] == "ok" and 0 <= float(r["dev_accuracy"]) <= 1 for r in rows)
    for bn in (False, True):  # the summary is good_lr_range of the variant's own rows
        accs = [r["dev_accuracy"] for r in result["rows"] if r["batch_norm"] == bn]
        assert result["summary"][bn] == experiments.good_lr_range(lrs, accs)
    # Same weights, seeds and rates: only batch norm tells the two variants apart, so it must
    # show in every run's cost (an ignored batch_norm flag would repeat the first three rows).
    cost = {(r["batch_norm"], r["learning_rate"]): r["final_cost"] for r in result["rows"]}
    for lr in lrs:
        assert abs(cost[True, lr] - cost[False, lr]) > SAME_RUN_TOLERANCE, lr
    # The lecture's point at the largest rate: without batch norm the steps overshoot and the
    # cost blows up (about 15, from 2.4 at the start); with it the cost still falls (about 1.8).
    assert cost[False, 1e-2] > 2 * cost[True, 1e-2]
    md = (tmp_path / "lr_range.md").read_text()
    assert md.count("\n| 0.001 |") == 2
    assert "| without batch norm |" in md and "| with batch norm |" in md
    assert "3 learning rates from 0.0001 to 0.01, 3 epochs" in md
    assert (tmp_path / "lr_range.png").stat().st_size > 5000


def test_diverged_runs_are_nan_not_a_crash(tiny, tmp_path, monkeypatch):
    X, Y, X_dev, Y_dev = tiny
    real_train = train.train

    def train_or_diverge(cfg, *args, **kwargs):
        if cfg.learning_rate > 0.05:
            raise errors.Diverged(f"cost became nan at epoch 0 (lr {cfg.learning_rate})")
        return real_train(cfg, *args, **kwargs)

    monkeypatch.setattr(train, "train", train_or_diverge)
    result = experiments.bn_lr_range(X, Y, X_dev, Y_dev, [1e-3, 0.1], epochs=1, out_dir=tmp_path)
    failed = [r for r in result["rows"] if r["learning_rate"] == 0.1]
    assert [r["status"] for r in failed] == ["diverged", "diverged"]
    assert all(math.isnan(r["dev_accuracy"]) and math.isnan(r["final_cost"]) for r in failed)
    assert result["summary"][True].best_lr == 1e-3 and result["summary"][True].decades == 0
    md = (tmp_path / "lr_range.md").read_text()
    assert "| NaN | NaN | NaN | diverged: cost became nan at epoch 0 (lr 0.1) |" in md  # the reason
    assert [r["reason"] for r in read_csv(tmp_path / "lr_range.csv")][1::2] == [failed[0]["reason"]] * 2
    assert md.count("| 1 of 2 | NaN (diverged) |") == 2
    assert (tmp_path / "lr_range.png").is_file()


def test_regularization_table(tiny, tmp_path):
    X, Y, X_test, Y_test = tiny
    configs = {"plain": {}, "L2": {"l2_lambda": 0.5}, "dropout": {"keep_prob": 0.8},
               "batch norm": {"batch_norm": True}}
    result = experiments.regularization(X, Y, X_test, Y_test, configs, epochs=2, out_dir=tmp_path)
    rows = read_csv(tmp_path / "regularization.csv")
    assert list(rows[0]) == list(experiments.REG_FIELDS)
    assert [r["name"] for r in rows] == list(configs)
    assert [r["batch_norm"] for r in rows] == ["False", "False", "False", "True"]
    assert float(rows[1]["l2_lambda"]) == 0.5 and float(rows[2]["keep_prob"]) == 0.8
    assert all(r["status"] == "ok" and 0 <= float(r["test_accuracy"]) <= 1 for r in rows)
    assert [r["test_accuracy"] for r in result["rows"]] == [float(r["test_accuracy"]) for r in rows]
    md = (tmp_path / "regularization.md").read_text()
    assert "2 epochs each" in md and md.count("| ok |") == 4

    # The columns above are copied from the configs; the costs show each one was trained.
    # Every run starts from the same weights and takes the same minibatches, so a
    # regularizer that was dropped on the way would give the plain run's cost again.
    cost = {r["name"]: r["final_cost"] for r in result["rows"]}
    assert [float(r["final_cost"]) for r in rows] == list(cost.values())
    # L2 adds lambda / (2 b) * sum ||W||^2 to each minibatch cost (b <= 32), and an epoch's
    # cost is at least the mean of its minibatch costs. Take half the penalty of the initial
    # weights: 8 Adam steps at 1e-4 move no weight by more than ~3e-3, which keeps well over
    # half of sum ||W||^2, and change the data cost by far less than the rest.
    initial_penalty = configs["L2"]["l2_lambda"] / (2 * 32) * xavier_sum_of_squares(
        [X.shape[0], 25, 12, Y.shape[0]])  # about 0.58 here; the runs' gap is about 0.8
    assert cost["L2"] - cost["plain"] > 0.5 * initial_penalty
    # Dropout and batch norm change every forward pass in training, so the cost curve.
    for name in ("dropout", "batch norm"):
        assert abs(cost[name] - cost["plain"]) > SAME_RUN_TOLERANCE, name


def test_regularizers_default_set():
    configs = experiments.regularizers()
    # name -> (l2_lambda, keep_prob, batch_norm) of the TrainConfig each one trains
    expected = {"plain": (0.0, 1.0, False),
                "L2 lambda=0.1": (0.1, 1.0, False), "L2 lambda=1": (1.0, 1.0, False),
                "dropout keep_prob=0.9": (0.0, 0.9, False), "dropout keep_prob=0.7": (0.0, 0.7, False),
                "batch norm": (0.0, 1.0, True)}
    assert list(configs) == list(expected)
    for name, changes in configs.items():
        cfg = TrainConfig().replace(**changes)
        assert (cfg.l2_lambda, cfg.keep_prob, cfg.batch_norm) == expected[name], name
        # one regularizer at a time; everything else is the course's model
        assert cfg.replace(l2_lambda=0.0, keep_prob=1.0, batch_norm=False) == TrainConfig(), name
    custom = experiments.regularizers(l2_lambdas=(0.5,), keep_probs=(0.8,))
    assert custom == {"plain": {}, "L2 lambda=0.5": {"l2_lambda": 0.5},
                      "dropout keep_prob=0.8": {"keep_prob": 0.8}, "batch norm": {"batch_norm": True}}


def test_regularization_refuses_a_bad_config_before_training(tiny):
    X, Y, X_test, Y_test = tiny
    with pytest.raises(SignsError, match=r"keep_prob must be a number in \(0, 1\]"):
        experiments.regularization(X, Y, X_test, Y_test, {"bad": {"keep_prob": 0}}, epochs=1)
    with pytest.raises(SignsError, match=r"l2_lambda must be a number in \[0, 3.403e\+38\] .*, got 1e\+300"):
        experiments.regularization(X, Y, X_test, Y_test, {"ok": {}, "big": {"l2_lambda": 1e300}},
                                   epochs=1)


# --- the CLI ----------------------------------------------------------------------

def test_cli_bn_lr_range(data_dir, tmp_path, run_cli):
    out = tmp_path / "lr"
    code, stdout, err = run_cli("experiment", "bn-lr-range", "--data-dir", data_dir, "--out", out,
                                "--epochs", 1, "--points", 2, "--lr-min", 1e-4, "--lr-max", 1e-2,
                                "--dev-fraction", 0.5, "--no-progress")
    assert code == 0, err
    assert "with batch norm: best dev accuracy" in stdout
    assert len(read_csv(out / "lr_range.csv")) == 4
    assert "judged on 540 dev examples" in (out / "lr_range.md").read_text()  # 90 per class
    assert (out / "lr_range.png").is_file()
    assert err.count("\n") == 4  # one line per run


def test_cli_regularization(data_dir, tmp_path, run_cli):
    out = tmp_path / "reg"
    # l2_lambda 1e30 fits float32 but breaks the cost: a labelled diverged row, not a crash.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")  # pytest would otherwise hide them from stderr
        code, stdout, err = run_cli("experiment", "regularization", "--data-dir", data_dir,
                                    "--out", out, "--epochs", 1, "--l2-lambdas", "0.1,1e30",
                                    "--keep-probs", 0.8, "--no-progress")
    assert code == 0, err
    assert [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)] == []
    assert "Warning" not in err and "Traceback" not in err
    rows = read_csv(out / "regularization.csv")
    assert [r["name"] for r in rows] == ["plain", "L2 lambda=0.1", "L2 lambda=1e+30",
                                         "dropout keep_prob=0.8", "batch norm"]
    assert [r["status"] for r in rows] == ["ok", "ok", "diverged", "ok", "ok"]
    reason = ("at epoch 0; expected a finite cost: lower l2_lambda (1e+30) or the learning rate "
              "(0.0001)")
    assert rows[2]["reason"].startswith("cost became ") and rows[2]["reason"].endswith(reason)
    assert "smaller learning rate" not in err + stdout  # the advice fits the cause
    assert f"L2 lambda=1e+30: diverged: {rows[2]['reason']}, train NaN test NaN" in err
    assert f"L2 lambda=1e+30: train accuracy NaN, test accuracy NaN (diverged: {rows[2]['reason']})" \
        in stdout
    md = (out / "regularization.md").read_text()
    assert "tested on 120" in md and f"| diverged: {rows[2]['reason']} |" in md
    assert "batch norm: train accuracy" in stdout


@pytest.mark.parametrize("args, message", [
    (["bn-lr-range", "--points", "1"], "argument --points: points must be an int >= 2, got 1"),
    (["bn-lr-range", "--lr-min", "0.1", "--lr-max", "0.01"],
     "argument --lr-min: lr_min must be smaller than lr_max, got 0.1 and 0.01"),
    (["bn-lr-range", "--epochs", "0"], "argument --epochs: num_epochs must be an int in [1, inf), got 0"),
    (["regularization", "--keep-probs", "0"],
     "argument --keep-probs: keep_prob must be a number in (0, 1], got 0.0"),
    (["regularization", "--l2-lambdas", "-1"], "argument --l2-lambdas: l2_lambda must be a number "
     "in [0, 3.403e+38] (the network computes in float32), got -1.0"),
    (["regularization", "--l2-lambdas", "0.1,1e300"], "argument --l2-lambdas: l2_lambda must be a "
     "number in [0, 3.403e+38] (the network computes in float32), got 1e+300"),
    (["regularization", "--learning-rate", "1e39"], "argument --learning-rate: learning_rate must "
     "be a number in (0, 3.403e+38] (the network computes in float32), got 1e+39"),
    (["bn-lr-range", "--lr-max", "1e300"], "argument --lr-max: learning_rate must be a number in "
     "(0, 3.403e+38] (the network computes in float32), got 1e+300"),
])
def test_cli_refusals(args, message, run_cli, tmp_path):
    code, out, err = run_cli("experiment", *args, "--data-dir", tmp_path / "no-data",
                             "--out", tmp_path / "out")
    assert code == 2
    assert err.splitlines() == [f"signs: error: {message}"]
    assert not (tmp_path / "out").exists()
