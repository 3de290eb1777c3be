"""The hyperparameter tuning notebook runs top to bottom on a tiny budget and shows the lecture's points.

Budget: 3 epochs per trial, 4 trials per round, a third of the training set,
2 worker processes (so the spawn pool is exercised from a Jupyter kernel).
The notebook writes its search and panda run under a folder the test chooses,
so the files can be checked as well as the printed output.
"""
import re
from pathlib import Path

import nbformat
import numpy as np
import pytest

from notebook_runner import cell_outputs_text, run_notebook
from signs_model.atomic import read_csv, read_json
from signs_model.search.space import SearchSpace

REPO_ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = REPO_ROOT / "notebooks" / "hyperparameter_tuning.ipynb"
EPOCHS, TRIALS, SUBSAMPLE, WORKERS = 3, 4, 3, 2
SEED, N_SAMPLES = 0, 10_000  # the notebook's sampling seed and histogram draws (fixed in it)


@pytest.fixture(scope="module")
def executed(data_dir, tmp_path_factory):
    # data_dir (conftest) fails when the shipped data is missing; absolute because
    # the kernel runs in notebooks/.
    out = tmp_path_factory.mktemp("tuning_nb")
    env = {"SIGNS_DATA_DIR": str(Path(data_dir).resolve()), "SIGNS_NB_EPOCHS": str(EPOCHS),
           "SIGNS_NB_TRIALS": str(TRIALS), "SIGNS_NB_SUBSAMPLE": str(SUBSAMPLE),
           "SIGNS_NB_WORKERS": str(WORKERS), "SIGNS_NB_OUT": str(out)}
    nb = run_notebook(NOTEBOOK, env=env, timeout=300)
    return nb, cell_outputs_text(nb), out


def outputs(nb, mime):
    return [o.data[mime] for c in nb.cells for o in c.get("outputs", []) if mime in o.get("data", {})]


def the_line(pattern, text):
    """The groups of the one output line that ``pattern`` matches as a whole."""
    found = [m.groups() for m in re.finditer(rf"^{pattern}$", text, re.M)]
    assert len(found) == 1, f"{len(found)} lines match {pattern!r}; expected one"
    return found[0]


def percent_row(label, text):
    """The two shares (linear scale, then the other) printed on the line of ``label``."""
    return [float(v) / 100 for v in the_line(re.escape(label) + r"\s+(\d+\.\d\d)%\s+(\d+\.\d\d)%", text)]


def draws(name, scale, low, high):
    """The notebook's N_SAMPLES draws of one axis, from the package's sampler and its seed."""
    space = SearchSpace.from_dict({name: {"scale": scale, "low": low, "high": high}})
    return np.array([t[name] for t in space.sample(N_SAMPLES, seed=SEED)])


def test_stored_without_outputs():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    dirty = [i for i, c in enumerate(nb.cells)
             if c.cell_type == "code" and (c.get("outputs") or c.get("execution_count") is not None)]
    assert not dirty, f"code cells {dirty} carry outputs or execution counts; clear them"
    params = [c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(params) == 1 and "SIGNS_NB_EPOCHS" in params[0].source


def test_every_cell_ran_without_error(executed):
    nb, text, out = executed
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.output_type == "error"]
    assert not errors, [f"{o.ename}: {o.evalue}" for o in errors]
    assert all(c.execution_count is not None for c in nb.cells if c.cell_type == "code")
    # grid vs random, two alpha histograms, two beta histograms, dev accuracy, rounds, panda curve
    assert len(outputs(nb, "image/png")) == 6
    the_line(re.escape(f"{EPOCHS} epochs per trial, {TRIALS} trials per round, {WORKERS} worker(s), "
                       f"1 in {SUBSAMPLE} training examples; writing to {out}"), text)


def test_grid_tries_5_values_per_axis_random_tries_25(executed):
    _, text, _ = executed
    lines = text.splitlines()
    assert "grid  : 25 trials, 5 distinct learning_rate values, 5 distinct epsilon values" in lines
    assert "random: 25 trials, 25 distinct learning_rate values, 25 distinct epsilon values" in lines
    # How close each design comes to alpha* = 0.003 on the learning-rate axis. The grid's
    # nearest point is 1e-3, log10(3) = 0.477 decades away; the random points are the
    # package's 25 draws with the notebook's seed.
    two_axes = SearchSpace.from_dict({"learning_rate": {"scale": "log", "low": 1e-4, "high": 1.0},
                                      "epsilon": {"scale": "log", "low": 1e-10, "high": 1e-6}})
    designs = {"grid": two_axes.grid(5), "random": two_axes.sample(25, seed=SEED)}
    nearest = {name: min(abs(np.log10(p["learning_rate"] / 0.003)) for p in points)
               for name, points in designs.items()}
    assert nearest["grid"] == pytest.approx(np.log10(3))
    for name in ("grid", "random"):
        (decades,) = the_line(rf"{name} *: best learning rate tried is (\d\.\d\d\d) decades "
                              r"from alpha\*", text)
        assert float(decades) == pytest.approx(nearest[name], abs=5e-4)  # 3 decimals printed
    assert nearest["random"] < nearest["grid"]


def test_log_scale_gives_each_decade_the_same_share(executed):
    _, text, _ = executed
    the_line(rf"share of {N_SAMPLES} learning rates per decade", text)
    edges = [1e-4, 1e-3, 1e-2, 1e-1, 1.0]
    labels = ("[1e-04, 1e-03)", "[1e-03, 1e-02)", "[1e-02, 1e-01)", "[1e-01, 1e+00]")
    rows = [percent_row(label, text) for label in labels]
    # The printed shares are those of the package's draws (2 decimals of a percent) ...
    for k, scale in enumerate(("linear", "log")):
        expected = np.histogram(draws("learning_rate", scale, 1e-4, 1.0), bins=edges)[0] / N_SAMPLES
        np.testing.assert_allclose([row[k] for row in rows], expected, rtol=0, atol=0.5e-4)
    # ... and show the lecture's point.
    linear, log = zip(*rows)
    assert sum(linear) == pytest.approx(1, abs=1e-3) and sum(log) == pytest.approx(1, abs=1e-3)
    assert all(share == pytest.approx(0.25, abs=0.02) for share in log)
    assert linear[-1] == pytest.approx(0.9, abs=0.02) and linear[0] < 0.005


def test_beta_sampled_through_one_minus_beta(executed):
    _, text, _ = executed
    bins = (("beta in [0.9, 0.99)", 0.9, 0.99), ("beta in [0.99, 0.999]", 0.99, 1.0))
    (low_linear, low_log), (high_linear, high_log) = (percent_row(label, text) for label, _, _ in bins)
    for k, scale in enumerate(("linear", "one_minus_log")):
        beta = draws("beta", scale, 0.9, 0.999)
        expected = [np.mean((beta >= low) & (beta < high)) for _, low, high in bins]
        printed = [(low_linear, low_log)[k], (high_linear, high_log)[k]]
        np.testing.assert_allclose(printed, expected, rtol=0, atol=0.5e-4)
    assert low_linear == pytest.approx(0.909, abs=0.02) and high_linear == pytest.approx(0.091, abs=0.02)
    assert low_log == pytest.approx(0.5, abs=0.02) and high_log == pytest.approx(0.5, abs=0.02)
    windows = (("0.9000", "10.0"), ("0.9005", "10.1"), ("0.9990", "1000.0"), ("0.9995", "2000.0"))
    for beta, window in windows:
        the_line(rf"\s*{re.escape(beta)}\s+{re.escape(window)}", text)


def test_search_leaderboards_and_zoomed_space(executed):
    nb, text, out = executed
    boards = [md for md in outputs(nb, "text/markdown") if md.startswith("| rank | trial |")]
    assert [len(md.strip().splitlines()) - 2 for md in boards] == [TRIALS, 2 * TRIALS]
    m_used = -(-1080 // SUBSAMPLE)  # every SUBSAMPLE-th example, the first included
    the_line(re.escape(f"training examples used: {m_used} of 1080 "
                       f"(20% of them held out as the dev set)"), text)

    rows = read_csv(out / "search" / "results.csv")
    assert [(r["round"], r["status"]) for r in rows] == [("0", "ok")] * TRIALS + [("1", "ok")] * TRIALS
    params = read_json(out / "search" / rows[0]["run_dir"] / "params.json")
    split = params["notes"]["search"]
    assert params["num_epochs"] == EPOCHS and split["m_train"] + split["m_dev"] == m_used

    # Each trial's report line carries its results.csv dev accuracy; each "best" is a trial
    # with the highest dev accuracy of the rows searched so far.
    lines = text.splitlines()
    for r in rows:
        assert f"  {r['run_dir']}: dev accuracy {float(r['dev_accuracy']):.4f}" in lines, r["run_dir"]
    coarse_best = the_line(r"best: (\S+) dev accuracy (\S+)", text)
    fine_best = the_line(rf"trials: {2 * TRIALS} \({TRIALS} new in round 1\); "
                         r"best: (\S+) dev accuracy (\S+)", text)
    for (run_dir, accuracy), searched in ((coarse_best, rows[:TRIALS]), (fine_best, rows)):
        top = max(float(r["dev_accuracy"]) for r in searched)
        assert run_dir in [r["run_dir"] for r in searched if float(r["dev_accuracy"]) == top]
        assert accuracy == f"{top:.4f}"

    rounds = read_json(out / "search" / "search.json")["rounds"]
    coarse, fine = (SearchSpace.from_dict(r["space"]) for r in rounds)
    assert SearchSpace.from_json(out / "search" / "zoomed_space.json").to_dict() == fine.to_dict()
    the_line(r"axis +scale +round 0 space +round 1 space \(zoomed\)", text)

    def described(p):
        return str(p.values) if p.scale == "choice" else f"[{p.low:.4g}, {p.high:.4g}]"

    narrowed = False
    for name, p in coarse.items():
        q = fine[name]
        if p.scale == "choice":
            assert set(q.values) <= set(p.values)
            narrowed |= len(q.values) < len(p.values)
        else:
            assert p.low <= q.low <= q.high <= p.high
            narrowed |= (q.low, q.high) != (p.low, p.high)
        the_line(rf"{name} +{p.scale} +{re.escape(described(p))} +{re.escape(described(q))}", text)
    assert narrowed


def test_panda_run_resumed_with_a_smaller_learning_rate(executed):
    _, text, out = executed
    the_line(re.escape(f"resumed cost curve: {2 * EPOCHS} epochs ({EPOCHS} + {EPOCHS})"), text)
    run = out / "panda"
    costs = [float(r["cost"]) for r in read_csv(run / "costs.csv")]
    assert len(costs) == 2 * EPOCHS
    params = read_json(run / "params.json")
    first, second = params["history"]
    assert (first["start_epoch"], first["end_epoch"], second["end_epoch"]) == (0, EPOCHS, 2 * EPOCHS)
    assert second["learning_rate"] == pytest.approx(first["learning_rate"] / 10)
    metrics = read_json(run / "metrics.json")
    assert metrics["epochs"] == 2 * EPOCHS

    # The panda run starts from the search's best trial.
    (best_dir,) = the_line(r"trials: \d+ \(\d+ new in round 1\); best: (\S+) dev accuracy \S+", text)
    (best,) = [r for r in read_csv(out / "search" / "results.csv") if r["run_dir"] == best_dir]
    assert first["learning_rate"] == float(best["learning_rate"])
    assert params["hidden_units"] == [int(best["hidden_units_1"]), int(best["hidden_units_2"])]

    # What the notebook prints of its two segments is what the run folder holds.
    lr, cost, _ = the_line(rf"segment 1: {EPOCHS} epochs at learning rate (\S+), cost (\S+), "
                           rf"dev accuracy (\d\.\d{{4}})", text)
    assert (lr, cost) == (f"{first['learning_rate']:.3g}", f"{costs[EPOCHS - 1]:.4f}")
    lr, cost, accuracy = the_line(rf"segment 2: {EPOCHS} more epochs at learning rate (\S+), "
                                  r"cost (\S+), dev accuracy (\S+)", text)
    assert (lr, cost, accuracy) == (f"{second['learning_rate']:.3g}", f"{costs[-1]:.4f}",
                                    f"{metrics['dev_accuracy']:.4f}")
    for segment in (first, second):
        the_line(re.escape(f"epochs {segment['start_epoch']}-{segment['end_epoch'] - 1}: "
                           f"learning rate {segment['learning_rate']:.3g}"), text)
