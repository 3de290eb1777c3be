"""The batch norm and softmax notebook runs top to bottom on a small budget and shows its checks."""
import re
from pathlib import Path

import nbformat
import pytest

from notebook_runner import cell_outputs_text, run_notebook
from tolerances import softmax_atol

REPO_ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = REPO_ROOT / "notebooks" / "batch_norm_and_softmax.ipynb"
EPOCHS = 3


@pytest.fixture(scope="module")
def executed(data_dir):
    # data_dir (conftest) fails when the shipped data is missing; absolute because
    # the kernel runs in notebooks/, where a relative path would miss.
    nb = run_notebook(NOTEBOOK, env={"SIGNS_DATA_DIR": str(Path(data_dir).resolve()),
                                     "SIGNS_NB_EPOCHS": str(EPOCHS)}, timeout=300)
    return nb, cell_outputs_text(nb)


def number_after(label, text):
    match = re.search(re.escape(label) + r"\s*([-+\d.eE]+|nan)", text)
    assert match, f"{label!r} not in the notebook's output"
    return float(match.group(1))


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


def test_uses_the_epoch_budget(executed):
    _, text = executed
    assert f"{EPOCHS} epochs per run" in text and f"after {EPOCHS} epochs: cost" in text


def test_batch_norm_formulas(executed):
    _, text = executed
    assert re.search(r"after batch norm, per unit: +mean \[0\. 0\. 0\.\] variance \[1\. 1\. 1\.\]", text)
    assert re.search(r"mean \[ 1\. -1\.  3\.\] std \[2\.  0\.5 1\. \]", text)  # beta, gamma
    assert number_after("max |batch_norm(Z + b) - batch_norm(Z)| =", text) < 1e-3
    assert "parameters with batch norm:    ['W1', 'W2', 'W3', 'b3']" in text


def test_moving_averages(executed):
    _, text = executed
    assert number_after("after  1 minibatches: moving_mean", text) < 1.0  # starts from 0
    assert abs(number_after("after 50 minibatches: moving_mean", text) - 5) < 0.5
    assert abs(number_after("moving_variance", text.split("after 50 minibatches:")[1]) - 4) < 1.0


def test_train_vs_test_statistics_and_prediction(executed):
    _, text = executed
    assert "moving average (test time): mean" in text and "whole training set:" in text
    for name in ("train", "test"):
        assert re.search(rf"{name} accuracy: with moving averages [\d.]+, "
                         rf"with the statistics of the whole {name} set [\d.]+", text)
    # Equal up to float32 rounding (see tolerances.softmax_atol). The notebook does not print
    # its logits; after 3 epochs at lr 0.001 they stay near 3 in size, so 50 bounds them.
    assert number_after("max |difference| alone vs in a batch:", text) <= softmax_atol(50.0, 12288)


def test_lr_range(executed):
    _, text = executed
    for variant in ("without", "with"):
        assert re.search(rf"{variant} batch norm: best dev accuracy [\d.]+ at lr [\d.e-]+, "
                         rf">= 90% of it over [\d.]+ decades", text)


def test_softmax_checks(executed):
    _, text = executed
    assert "softmax([5, 2, -1, 3]) = [0.842  0.0419 0.0021 0.114 ]" in text
    assert "cross-entropy with y = class 1: 3.1719 = -log a_1 = 3.1719" in text
    assert number_after("gradient check (finite differences vs (A - Y) / m): relative difference",
                        text) < 1e-7
    assert number_after("gradient check (TensorFlow vs (A - Y) / m): relative difference",
                        text) < 1e-10
    assert number_after("NumPy vs TF costs: max |difference|", text) < 1e-9
    assert number_after("linear classifier test accuracy:", text) >= 0
