"""The batch norm and softmax notebook runs top to bottom on a small budget and shows its checks."""
import re
from pathlib import Path

import nbformat
import numpy as np
import pytest

from notebook_runner import cell_outputs_text, run_notebook
from signs_model import data, train
from signs_model.config import TrainConfig
from signs_model.predict import Predictor
from tolerances import EPS, softmax_atol

REPO_ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = REPO_ROOT / "notebooks" / "batch_norm_and_softmax.ipynb"
# Epochs of each run, and iterations of the softmax classifier: with fewer than about 20
# the classifier stays at chance (3 iterations: 17 of 120 test images, like its random start).
EPOCHS = 20
EPS64 = float(np.finfo(np.float64).eps)
HALF_UNIT = {3: 5e-4, 4: 5e-5}  # half a unit of the last printed decimal, by decimals


@pytest.fixture(scope="module")
def executed(data_dir):
    # data_dir (conftest) fails when the shipped data is missing; absolute because
    # the kernel runs in notebooks/, where a relative path would miss.
    nb = run_notebook(NOTEBOOK, env={"SIGNS_DATA_DIR": str(Path(data_dir).resolve()),
                                     "SIGNS_NB_EPOCHS": str(EPOCHS)}, timeout=300)
    return nb, cell_outputs_text(nb)


@pytest.fixture(scope="module")
def reference(signs, tmp_path_factory):
    """The notebook's batch norm run, made again by the trainer: the same code and seeds on
    the same machine, so what the notebook prints of it is this run, rounded for printing."""
    cfg = TrainConfig(num_epochs=EPOCHS, learning_rate=0.001, batch_norm=True)
    run_dir = tmp_path_factory.mktemp("bn_reference") / "bn_run"
    result = train.train(cfg, signs.X_train, signs.Y_train,
                         {"train": (signs.X_train, signs.Y_train), "test": (signs.X_test, signs.Y_test)},
                         run_dir=run_dir, progress=False)
    return cfg, run_dir, result


def the_line(pattern, text):
    """The groups of the one output line that ``pattern`` matches as a whole."""
    found = [m.groups() for m in re.finditer(rf"^{pattern}$", text, re.M)]
    assert len(found) == 1, f"{len(found)} lines match {pattern!r}; expected one"
    return found[0]


def floats(text):
    return np.array([float(v) for v in re.findall(r"[-+]?\d+\.?\d*(?:e[-+]?\d+)?", text)])


def assert_printed(printed, expected, decimals, atol=0.0):
    """``printed`` (a string of numbers, or numbers parsed from one) is ``expected`` rounded to
    ``decimals``: within half a unit of the last digit, plus a few float32 ulps, plus ``atol``."""
    got = floats(printed) if isinstance(printed, str) else np.asarray(printed, dtype=np.float64)
    expected = np.atleast_1d(np.asarray(expected, dtype=np.float64))
    tolerance = HALF_UNIT[decimals] + 4 * EPS * np.abs(expected) + atol
    assert got.shape == expected.shape and np.all(np.abs(got - expected) <= tolerance), (
        f"printed {got}, expected {expected} to within {tolerance}")


def test_stored_without_outputs():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    dirty = [i for i, c in enumerate(nb.cells)
             if c.cell_type == "code" and (c.get("outputs") or c.get("execution_count") is not None)]
    assert not dirty, f"code cells {dirty} carry outputs or execution counts; clear them"


def test_every_cell_ran_without_error(executed):
    nb, _ = executed
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.output_type == "error"]
    assert not errors, [f"{o.ename}: {o.evalue}" for o in errors]
    assert all(c.execution_count is not None for c in nb.cells if c.cell_type == "code")
    images = [o for c in nb.cells for o in c.get("outputs", []) if "image/png" in o.get("data", {})]
    assert len(images) >= 3  # BN statistics, the tiny LR range, the softmax cost curves


def test_uses_the_epoch_budget(executed, reference):
    _, text = executed
    the_line(rf"X_train \(12288, 1080\), X_test \(12288, 120\); {EPOCHS} epochs per run", text)
    cost, train_accuracy, test_accuracy = the_line(
        rf"after {EPOCHS} epochs: cost (\S+), train accuracy (\S+), test accuracy (\S+) "
        r"\(test mode: moving averages\)", text)
    _, _, result = reference
    assert_printed(cost, result["costs"][-1], 4)
    # one image more or less (1/1080, 1/120) is more than a printed unit
    assert_printed(train_accuracy, result["metrics"]["train_accuracy"], 4)
    assert_printed(test_accuracy, result["metrics"]["test_accuracy"], 4)


def test_batch_norm_formulas(executed):
    _, text = executed
    the_line(r"after batch norm, per unit:  mean \[0\. 0\. 0\.\] variance \[1\. 1\. 1\.\]", text)
    the_line(r"with gamma = \[2, 0\.5, 1\], beta = \[1, -1, 3\]: "
             r"mean \[ 1\. -1\.  3\.\] std \[2\.  0\.5 1\. \]", text)  # beta, gamma
    # b cancels in Z + b - mean(Z + b) up to float32 rounding: a few ulps of max |Z + b| (an
    # 8-term mean, two evaluations) over sigma. Here max |Z + b| / sigma is about 13 (from the
    # printed means and variances: |z - mean| <= sqrt(7) sigma for 8 examples; |b| <= 7), so
    # ~2**8 ulps; 2**10 keeps a margin and is far below the |b| / sigma >= 0.3 a kept b leaves.
    (diff,) = the_line(r"max \|batch_norm\(Z \+ b\) - batch_norm\(Z\)\| = (\S+)", text)
    assert float(diff) < 2**10 * EPS
    the_line(re.escape("parameters without batch norm: ['W1', 'W2', 'W3', 'b1', 'b2', 'b3']"), text)
    the_line(re.escape("parameters with batch norm:    ['W1', 'W2', 'W3', 'b3'] "
                       "(b is dropped for the hidden layers)"), text)


def test_moving_averages(executed):
    _, text = executed
    # The lecture's average, moving = 0.9 moving + 0.1 batch value, from 0 (mean) and 1
    # (variance), over the notebook's minibatches: 50 draws of 5 + 2 N(0, 1), 32 at a time.
    rng = np.random.RandomState(1)
    mean, variance = 0.0, 1.0
    for step in range(1, 51):
        z = (5 + 2 * rng.randn(1, 32)).astype(np.float32).astype(np.float64)  # fed as float32
        mean, variance = 0.9 * mean + 0.1 * z.mean(), 0.9 * variance + 0.1 * z.var()
        if step in (1, 2, 5, 10, 20, 50):
            printed = the_line(rf"after {step:2d} minibatches: moving_mean (\S+)  moving_variance (\S+)",
                               text)
            assert_printed(np.array(printed, dtype=float), [mean, variance], 3)
    (one,) = the_line(r"one example at test time, z = 5 -> \[(\S+)\] "
                      r"\(close to 0: it is near the mean\)", text)
    assert_printed(one, (5 - mean) / np.sqrt(variance + 1e-8), 4)


def test_train_vs_test_statistics_and_prediction(executed, reference, signs):
    _, text = executed
    cfg, run_dir, result = reference
    p = result["parameters"]
    # Z1 = W1 X in float32: two summation orders differ by ~sqrt(n_x) ulps of sum |W1| |X|
    # (see tolerances.softmax_atol); a variance then moves by 2 sqrt(variance) times that.
    delta = np.sqrt(12288) * EPS * float((np.abs(p["W1"]) @ signs.X_train).max())

    def check_statistics(label, Z):
        mean, variance = the_line(rf"  {re.escape(label)} +mean \[(.*)\]  variance \[(.*)\]", text)
        assert_printed(mean, Z.mean(axis=1)[:5], 4, atol=delta)
        assert_printed(variance, Z.var(axis=1)[:5], 4, atol=2 * np.sqrt(Z.var(axis=1)[:5]) * delta)

    the_line("first 5 units of layer 1", text)
    batches = data.random_mini_batches(signs.X_train, signs.Y_train, 32, seed=cfg.seed + EPOCHS)
    for i, (X_batch, _) in enumerate(batches[:5]):
        check_statistics(f"minibatch {i} (train time):", p["W1"] @ X_batch)
    mean, variance = the_line(r"  moving average \(test time\): mean \[(.*)\]  variance \[(.*)\]", text)
    assert_printed(mean, p["bn1/moving_mean"].ravel()[:5], 4)
    assert_printed(variance, p["bn1/moving_variance"].ravel()[:5], 4)
    check_statistics("whole training set:", p["W1"] @ signs.X_train)

    # With moving averages is how the run itself scored; the whole set's statistics are the other mode.
    at_the_end = the_line(rf"after {EPOCHS} epochs: cost \S+, train accuracy (\S+), "
                          r"test accuracy (\S+) .*", text)
    for name, moving_at_the_end in zip(("train", "test"), at_the_end):
        moving, whole = the_line(rf"{name} accuracy: with moving averages (\S+), "
                                 rf"with the statistics of the whole {name} set (\S+)", text)
        assert moving == moving_at_the_end
        assert 0 <= float(whole) <= 1

    # Equal up to float32 rounding (see tolerances.softmax_atol). The notebook does not print
    # its logits; after 20 epochs at lr 0.001 the largest is about 10, so 50 bounds them.
    (alone,) = the_line(r"max \|difference\| alone vs in a batch: (\S+)", text)
    assert float(alone) <= softmax_atol(50.0, 12288)
    predicted, labels = the_line(r"predicted digits: \[(.*)\]  labels: \[(.*)\]", text)
    assert labels.split() == [str(y) for y in signs.y_test[:16]]
    predictor = Predictor(run_dir)
    try:
        expected = predictor.probabilities_of(signs.X_test[:, :16]).argmax(axis=0)
    finally:
        predictor.close()
    assert predicted.split() == [str(y) for y in expected]


def test_lr_range(executed):
    _, text = executed
    best = {}
    for variant in ("without", "with"):
        accuracy, lr, decades = the_line(
            rf"{variant} batch norm: best dev accuracy (\d\.\d{{4}}) at lr (\S+), "
            rf">= 90% of it over (\S+) decades", text)
        # a rate of the grid, and a width measured on it: 3 rates a decade apart
        assert lr in ("0.0001", "0.001", "0.01") and decades in ("0.00", "1.00", "2.00")
        best[variant] = float(accuracy)
        assert 0 <= best[variant] <= 1
    # The section's point, from the same weights and seeds: batch norm reaches a far better
    # dev accuracy (after 20 epochs 0.86 against 0.40; after 3 epochs 0.60 against 0.23).
    assert best["with"] > best["without"]


def test_softmax_checks(executed):
    _, text = executed
    (total,) = the_line(re.escape("softmax([5, 2, -1, 3]) = [0.842  0.0419 0.0021 0.114 ]")
                        + r"  sum (\S+)", text)
    assert float(total) == pytest.approx(1, abs=4 * EPS64)  # four float64 quotients, summed
    the_line(re.escape("cross-entropy with y = class 1: 3.1719 = -log a_1 = 3.1719"), text)
    the_line(re.escape("dZ = A - Y = [ 0.842  -0.9581  0.0021  0.114 ]"), text)

    numpy_cost, tf_cost = the_line(r"cost: NumPy (\S+), TensorFlow (\S+)", text)
    assert float(numpy_cost) == pytest.approx(float(tf_cost), abs=1e-10)  # 10 decimals printed
    # Central differences (h = 1e-6) in float64 on the notebook's check data (6 classes,
    # 5 examples from RandomState(2), remade here to size the bound): each cost carries ~10
    # ulps (softmax, log, a 5-term mean), so each of the 30 entries is ~10 eps J / 2h off, and
    # truncation h**2 |J'''| / 6 ~ 1e-13 adds nothing; relative to the two gradients' norms
    # that is ~1.4e-8, below the course's 1e-7. A wrong gradient is off by O(1); even one-sided
    # differences (error h/2 |J''|) land near 1e-7.
    rng = np.random.RandomState(2)
    Z0 = rng.randn(6, 5)
    Y0 = np.eye(6)[:, rng.randint(0, 6, 5)]
    A0 = np.exp(Z0 - Z0.max(axis=0))
    A0 /= A0.sum(axis=0)
    gradient_norm = np.linalg.norm((A0 - Y0) / 5)
    bound = np.sqrt(30) * 10 * EPS64 * float(numpy_cost) / (2 * 1e-6) / (2 * gradient_norm)
    (finite,) = the_line(r"gradient check \(finite differences vs \(A - Y\) / m\): "
                         r"relative difference (\S+)", text)
    assert float(finite) < bound
    # TensorFlow's gradient and (A - Y) / m are the same float64 formula: exp, a sum of
    # 6 terms, a division, a subtraction: a few ulps each, 2**7 ulps in all at most.
    (autodiff,) = the_line(r"gradient check \(TensorFlow vs \(A - Y\) / m\): relative difference (\S+)",
                           text)
    assert float(autodiff) < 2**7 * EPS64

    # NumPy and TF train the same float64 classifier: their logits (sums of 12288 terms, under
    # 10 in size) differ by ~sqrt(12288) ulps of 10, a cost by twice that, per iteration; the
    # weights move by the learning rate (< 1) times such differences.
    iterations, costs_diff, weights_diff = the_line(
        r"(\d+) iterations: NumPy vs TF costs: max \|difference\| (\S+); "
        r"weights: max \|difference\| (\S+)", text)
    assert int(iterations) == EPOCHS
    bound = EPOCHS * 2 * np.sqrt(12288) * EPS64 * 10
    assert float(costs_diff) <= bound and float(weights_diff) <= bound
    start, end = the_line(r"cost (\S+) -> (\S+)", text)
    assert float(end) < float(start)  # gradient descent at a small rate lowers the cost
    # Chance is 1/6 (20 of 120); the random start gets 17 of 120. After 20 iterations the
    # classifier gets 30 of 120, and no test image is near a tie (top two probabilities at
    # least 1.8e-4 apart, far above float64 rounding), so the count is the same on any
    # machine. 24 of 120 keeps that margin and is still clearly above chance.
    (accuracy,) = the_line(r"linear classifier test accuracy: (\S+)", text)
    assert float(accuracy) >= 24 / 120
