"""The hyperparameter tuning notebook runs top to bottom on a tiny budget and shows the lecture's points.

Budget: 3 epochs per trial, 4 trials per round, a third of the training set,
2 worker processes (so the spawn pool is exercised from a Jupyter kernel).
The notebook writes its search and panda run under a folder the test chooses,
so the files can be checked as well as the printed output.
"""
import re
from pathlib import Path

import nbformat
import pytest

from notebook_runner import cell_outputs_text, run_notebook
from signs_model.files import read_csv, read_json
from signs_model.hparams import SearchSpace

REPO_ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = REPO_ROOT / "notebooks" / "hyperparameter_tuning.ipynb"
EPOCHS, TRIALS, SUBSAMPLE, WORKERS = 3, 4, 3, 2


@pytest.fixture(scope="module")
def executed(data_dir, tmp_path_factory):
    # data_dir (conftest) skips when no SIGNS data is reachable; absolute because
    # the kernel runs in notebooks/.
    out = tmp_path_factory.mktemp("tuning_nb")
    env = {"SIGNS_DATA_DIR": str(Path(data_dir).resolve()), "SIGNS_NB_EPOCHS": str(EPOCHS),
           "SIGNS_NB_TRIALS": str(TRIALS), "SIGNS_NB_SUBSAMPLE": str(SUBSAMPLE),
           "SIGNS_NB_WORKERS": str(WORKERS), "SIGNS_NB_OUT": str(out)}
    nb = run_notebook(NOTEBOOK, env=env, timeout=300)
    return nb, cell_outputs_text(nb), out


def outputs(nb, mime):
    return [o.data[mime] for c in nb.cells for o in c.get("outputs", []) if mime in o.get("data", {})]


def percent_row(label, text, columns=2):
    match = re.search(re.escape(label) + r"\s+" + r"\s+".join([r"([\d.]+)%"] * columns), text)
    assert match, f"{label!r} row not in the notebook's output"
    return [float(g) / 100 for g in match.groups()]


def test_stored_without_outputs():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    dirty = [i for i, c in enumerate(nb.cells)
             if c.cell_type == "code" and (c.get("outputs") or c.get("execution_count") is not None)]
    assert not dirty, f"code cells {dirty} carry outputs or execution counts; clear them"
    params = [c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(params) == 1 and "SIGNS_NB_EPOCHS" in params[0].source


def test_every_cell_ran_without_error(executed):
    nb, text, _ = executed
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.output_type == "error"]
    assert not errors, [f"{o.ename}: {o.evalue}" for o in errors]
    assert all(c.execution_count is not None for c in nb.cells if c.cell_type == "code")
    # grid vs random, two alpha histograms, two beta histograms, dev accuracy, rounds, panda curve
    assert len(outputs(nb, "image/png")) == 6
    assert (f"{EPOCHS} epochs per trial, {TRIALS} trials per round, {WORKERS} worker(s), "
            f"1 in {SUBSAMPLE} training examples") in text


def test_grid_tries_5_values_per_axis_random_tries_25(executed):
    _, text, _ = executed
    assert "grid  : 25 trials, 5 distinct learning_rate values, 5 distinct epsilon values" in text
    assert "random: 25 trials, 25 distinct learning_rate values, 25 distinct epsilon values" in text
    grid, rand = (float(re.search(name + r"\s*: best learning rate tried is ([\d.]+) decades", text)
                        .group(1)) for name in ("grid", "random"))
    assert rand < grid


def test_log_scale_gives_each_decade_the_same_share(executed):
    _, text, _ = executed
    rows = [percent_row(label, text) for label in
            ("[1e-04, 1e-03)", "[1e-03, 1e-02)", "[1e-02, 1e-01)", "[1e-01, 1e+00]")]
    linear, log = zip(*rows)
    assert sum(linear) == pytest.approx(1, abs=1e-3) and sum(log) == pytest.approx(1, abs=1e-3)
    assert all(share == pytest.approx(0.25, abs=0.02) for share in log)
    assert linear[-1] == pytest.approx(0.9, abs=0.02) and linear[0] < 0.005


def test_beta_sampled_through_one_minus_beta(executed):
    _, text, _ = executed
    low_linear, low_log = percent_row("beta in [0.9, 0.99)", text)
    high_linear, high_log = percent_row("beta in [0.99, 0.999]", text)
    assert low_linear == pytest.approx(0.909, abs=0.02) and high_linear == pytest.approx(0.091, abs=0.02)
    assert low_log == pytest.approx(0.5, abs=0.02) and high_log == pytest.approx(0.5, abs=0.02)
    windows = (("0.9000", "10.0"), ("0.9005", "10.1"), ("0.9990", "1000.0"), ("0.9995", "2000.0"))
    for beta, window in windows:
        assert re.search(rf"^\s*{beta}\s+{window}$", text, re.M), (beta, window)


def test_search_leaderboards_and_zoomed_space(executed):
    nb, text, out = executed
    boards = [md for md in outputs(nb, "text/markdown") if md.startswith("| rank | trial |")]
    assert [len(md.strip().splitlines()) - 2 for md in boards] == [TRIALS, 2 * TRIALS]
    assert "round 1 space (zoomed)" in text

    rows = read_csv(out / "search" / "results.csv")
    assert [(r["round"], r["status"]) for r in rows] == [("0", "ok")] * TRIALS + [("1", "ok")] * TRIALS
    params = read_json(out / "search" / rows[0]["run_dir"] / "params.json")
    split = params["notes"]["search"]
    assert params["num_epochs"] == EPOCHS and split["m_train"] + split["m_dev"] == 1080 // SUBSAMPLE

    rounds = read_json(out / "search" / "search.json")["rounds"]
    coarse, fine = (SearchSpace.from_dict(r["space"]) for r in rounds)
    assert SearchSpace.from_json(out / "search" / "zoomed_space.json").to_dict() == fine.to_dict()
    narrowed = False
    for name, p in coarse.items():
        q = fine[name]
        if p.scale == "choice":
            assert set(q.values) <= set(p.values)
            narrowed |= len(q.values) < len(p.values)
        else:
            assert p.low <= q.low <= q.high <= p.high
            narrowed |= (q.low, q.high) != (p.low, p.high)
            low, high = (f"{v:.4g}" for v in (q.low, q.high))
            assert re.search(rf"^{name}\s+{p.scale}\s+\[.*\]\s+\[{re.escape(low)}, {re.escape(high)}\]$",
                             text, re.M), name
    assert narrowed


def test_panda_run_resumed_with_a_smaller_learning_rate(executed):
    _, text, out = executed
    assert f"resumed cost curve: {2 * EPOCHS} epochs ({EPOCHS} + {EPOCHS})" in text
    run = out / "panda"
    assert len(read_csv(run / "costs.csv")) == 2 * EPOCHS
    first, second = read_json(run / "params.json")["history"]
    assert (first["start_epoch"], first["end_epoch"], second["end_epoch"]) == (0, EPOCHS, 2 * EPOCHS)
    assert second["learning_rate"] == pytest.approx(first["learning_rate"] / 10)
    assert read_json(run / "metrics.json")["epochs"] == 2 * EPOCHS
