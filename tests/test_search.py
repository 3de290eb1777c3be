"""Hyperparameter search: parallel trials, run folders, results, zoom, failures, resume, CLI.

The library-level searches train on a 180-example slice for 3 epochs, so each
costs mostly the start-up of its worker processes.
"""
import json
import multiprocessing
import os
import signal

import optuna
import pytest

from conftest import balanced, run_signs_subprocess
from signs_model import runs
from signs_model.search import database, loop, study_trials
from signs_model.config import TrainConfig
from signs_model.data import dev_split
from signs_model.errors import SignsError
from signs_model.atomic import read_csv, read_json
from signs_model.search.space import SearchSpace

SPACE = {**loop.DEFAULT_SPACE, "minibatch_size": {"scale": "choice", "values": [16, 32]}}
NAMES = list(SPACE)
RUN_FILES = ("params.json", "costs.csv", "cost.png", "metrics.json", "parameters.npz", "checkpoints")


def quick_search(signs, out, **kw):
    X, Y = balanced(signs, 30)
    return loop.tune(SPACE, X, Y, out, **{"trials": 4, "workers": 2, "epochs": 3, **kw})


def read_rows(out):
    return read_csv(out / "results.csv")


@pytest.fixture(scope="module")
def local_search(signs, tmp_path_factory):
    """4 trials x 2 rounds (round 1 zoomed), 2 local worker processes."""
    out = tmp_path_factory.mktemp("search")
    return out, quick_search(signs, out, zoom_rounds=1)


def test_local_search_writes_results_leaderboard_plots_and_run_folders(signs, local_search):
    out, result = local_search
    rows = read_rows(out)
    assert [(r["round"], r["trial"]) for r in rows] == [(str(r), str(i)) for r in (0, 1) for i in range(4)]
    assert list(rows[0]) == ["round", "trial", "run_dir", *NAMES, "dev_accuracy", "train_accuracy",
                             "final_cost", "seconds", "status", "reason"]
    assert all(r["status"] == "ok" and r["reason"] == "" for r in rows)
    # Trials are judged on the dev split carved from the training set, never on the test set.
    m_dev = dev_split(*balanced(signs, 30), 0.2, 0)[2].shape[1]
    for r in rows:
        run = out / r["run_dir"]
        assert r["run_dir"] == f"round{r['round']}/trial{int(r['trial']):03d}"
        assert all((run / name).exists() for name in RUN_FILES), run
        assert list(run.glob("events.out.tfevents.*"))
        metrics, params = read_json(run / "metrics.json"), read_json(run / "params.json")
        assert "test_accuracy" not in metrics
        assert float(r["dev_accuracy"]) == metrics["dev_accuracy"]
        assert abs(metrics["dev_accuracy"] * m_dev - round(metrics["dev_accuracy"] * m_dev)) < 1e-3
        assert params["num_epochs"] == 3 and len(read_csv(run / "costs.csv")) == 3
        assert params["learning_rate"] == float(r["learning_rate"])
        assert params["hidden_units"] == [int(r["hidden_units_1"]), int(r["hidden_units_2"])]
    best = max(result["rows"], key=lambda r: r["dev_accuracy"])
    assert result["best"]["dev_accuracy"] == best["dev_accuracy"]
    assert result["best_config"] == runs.load_config(out / result["best"]["run_dir"])

    table = (out / "leaderboard.md").read_text().splitlines()
    assert len(table) == 2 + len(rows) and table[0].startswith("| rank | trial |")
    dev = [float(line.split("|")[3 + len(NAMES)]) for line in table[2:]]
    assert dev == sorted(dev, reverse=True)
    for png in ("dev_accuracy.png", "rounds.png"):
        assert (out / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    log = read_json(out / "search.json")
    assert log["seed"] == 0 and log["args"]["trials"] == 4 and len(log["rounds"]) == 2
    assert log["rounds"][0]["space"] == SearchSpace.from_dict(SPACE).to_dict()


def test_zoom_round_samples_inside_the_zoomed_space(local_search):
    out, result = local_search
    round0 = [r for r in result["rows"] if r["round"] == 0]
    zoomed = SearchSpace.from_dict(SPACE).zoom(
        [{**loop.row_params(r, NAMES), "score": r["dev_accuracy"]} for r in round0])
    assert read_json(out / "search.json")["rounds"][1]["space"] == zoomed.to_dict()
    round1 = [loop.row_params(r, NAMES) for r in result["rows"] if r["round"] == 1]
    assert round1 == zoomed.sample(4, seed=1)  # deterministic from --seed: round r uses seed + r
    for trial in round1:
        for name, p in zoomed.items():
            assert trial[name] in p.values if p.scale == "choice" else p.low <= trial[name] <= p.high


def test_ray_backend_runs_the_same_trials(signs, local_search, tmp_path):
    pytest.importorskip("ray")
    result = quick_search(signs, tmp_path, backend="ray")
    assert [r["status"] for r in result["rows"]] == ["ok"] * 4
    local = [r for r in local_search[1]["rows"] if r["round"] == 0]
    for a, b in zip(result["rows"], local):
        assert loop.row_params(a, NAMES) == loop.row_params(b, NAMES)
        assert a["dev_accuracy"] == pytest.approx(b["dev_accuracy"], abs=1e-6)
    assert all((tmp_path / r["run_dir"] / "metrics.json").is_file() for r in result["rows"])


def test_diverging_and_crashing_trials_are_recorded_and_the_others_finish(signs, tmp_path):
    X, Y = balanced(signs, 30)
    space = {"learning_rate": {"scale": "choice", "values": [1e-3, 1e30]},
             "minibatch_size": {"scale": "choice", "values": [16, 4096]}}
    # seed 26 draws (1e30, 16): the weights overflow, the cost is NaN; (1e30, 4096): a minibatch
    # larger than the data, train() raises before training; and two fine trials.
    rows = loop.tune(space, X, Y, tmp_path, trials=4, workers=2, epochs=3, seed=26,
                       base_config={"optimizer": "gd"})["rows"]
    assert [(r["learning_rate"], r["minibatch_size"]) for r in rows] == \
        [(1e30, 16), (1e30, 4096), (1e-3, 16), (1e-3, 16)]
    # The same statuses as the experiments': diverged (a NaN cost), failed (any other error).
    assert [r["status"] for r in rows] == ["diverged", "failed", "ok", "ok"]
    assert rows[0]["reason"].startswith("cost became nan")
    assert rows[1]["reason"].startswith("SignsError: minibatch_size must be at most")
    assert rows[0]["dev_accuracy"] is None and rows[1]["seconds"] is not None
    assert [r["status"] for r in read_rows(tmp_path)] == ["diverged", "failed", "ok", "ok"]
    statuses = [line.split("|")[-2].strip() for line in
                (tmp_path / "leaderboard.md").read_text().splitlines()[-2:]]
    assert statuses[0].startswith("diverged: cost became nan") and statuses[1].startswith("failed: ")


def test_a_killed_worker_fails_its_attempt_and_the_trial_is_retried_on_a_new_pool(signs, tmp_path):
    X, Y = balanced(signs, 30)
    space = {"num_epochs": {"scale": "choice", "values": [2, 3000]}}  # seed 4: 3000, 2, 2, 2
    killed = []

    def kill_workers_once(row):
        if not killed:  # trial 0 (3000 epochs) is still running in the other worker
            killed.extend(p.pid for p in multiprocessing.active_children())
            for pid in killed:
                os.kill(pid, signal.SIGKILL)

    rows = loop.tune(space, X, Y, tmp_path, trials=4, workers=2, seed=4,
                       report=kill_workers_once)["rows"]
    assert killed and [r["num_epochs"] for r in rows] == [3000, 2, 2, 2]
    # Every trial ends ok: an attempt cut by its worker's death is failed, then retried.
    assert [r["status"] for r in rows] == ["ok"] * 4
    attempts = optuna.load_study(study_name=tmp_path.name, storage=database.open_storage(
        database.default_storage(tmp_path), heartbeat=False)).get_trials()
    failed = [t for t in attempts if t.state.name == "FAIL"]
    assert failed and all(t.user_attrs["reason"].startswith("worker process died") for t in failed)
    complete = sorted(t.user_attrs["index"] for t in attempts if t.state.name == "COMPLETE")
    assert complete == [0, 1, 2, 3], [(t.number, t.state.name, t.user_attrs) for t in attempts]
    assert len(attempts) == 4 + len(failed)


def test_rerun_trains_nothing_the_study_has_finished(signs, local_search):
    out, before = local_search
    victim = out / "round0" / "trial001" / "metrics.json"
    metrics = sorted(out.glob("round*/trial*/metrics.json"))
    mtimes = {p: p.stat().st_mtime_ns for p in metrics}
    seen = []
    after = quick_search(signs, out, zoom_rounds=1, report=seen.append)
    assert seen == [] and after["rows"] == before["rows"]
    assert {p: p.stat().st_mtime_ns for p in mtimes} == mtimes  # untouched
    # A folder trained with another config (here: more epochs) or other data does not count.
    run_dir, notes = str(victim.parent), read_json(victim.parent / "params.json")["notes"]
    config = runs.load_config(run_dir)
    assert isinstance(config, TrainConfig) and config.num_epochs == 3
    assert study_trials.finished(run_dir, config, notes) is not None
    assert study_trials.finished(run_dir, config.replace(num_epochs=4), notes) is None
    other_split = {"search": {**notes["search"], "dev_fraction": 0.3}}
    assert study_trials.finished(run_dir, config, other_split) is None


def test_rerun_with_more_trials_keeps_the_finished_ones_and_trains_only_the_new(signs, tmp_path):
    first = quick_search(signs, tmp_path, trials=2)["rows"]
    done = {p: p.stat().st_mtime_ns for p in tmp_path.glob("round0/trial*/metrics.json")}
    assert len(done) == 2
    second = quick_search(signs, tmp_path, trials=3)["rows"]
    assert {p: p.stat().st_mtime_ns for p in done} == done  # not retrained
    assert sorted(tmp_path.glob("round0/trial*/metrics.json")) == sorted(done) + [
        tmp_path / "round0" / "trial002" / "metrics.json"]
    assert second[:2] == first and second[2]["status"] == "ok"
    assert len(read_rows(tmp_path)) == 3


def test_rerun_with_fewer_trials_keeps_every_finished_row(signs, tmp_path):
    first = quick_search(signs, tmp_path, trials=3)["rows"]
    best = max(first, key=lambda r: r["dev_accuracy"])
    second = quick_search(signs, tmp_path, trials=1)
    assert second["rows"] == first and len(read_rows(tmp_path)) == 3
    assert best["run_dir"] in (tmp_path / "leaderboard.md").read_text()


def test_dry_run_prints_the_same_json_lines_for_the_same_seed(run_cli):
    code, out, err = run_cli("tune", "--dry-run", "--trials", 5, "--seed", 7)
    assert code == 0 and err == ""
    lines = [json.loads(line) for line in out.splitlines()]
    assert [(t["round"], t["trial"]) for t in lines] == [(0, i) for i in range(5)]
    space = loop.default_space()
    assert space == SearchSpace.from_dict(loop.DEFAULT_SPACE)
    assert [{k: t[k] for k in space} for t in lines] == space.sample(5, seed=7)
    assert [{k: t[k] for k in space} for t in lines] == loop.sample_trials(space, 5, seed=7)
    assert run_cli("tune", "--dry-run", "--trials", 5, "--seed", 7)[1] == out
    assert run_cli("tune", "--dry-run", "--trials", 5, "--seed", 8)[1] != out
    # More trials add lines; the first five stay as they were.
    assert run_cli("tune", "--dry-run", "--trials", 8, "--seed", 7)[1].startswith(out)


@pytest.mark.parametrize("args, message", [
    (["--trials", "0"], "trials must be an int >= 1, got 0"),
    (["--workers", "0"], "workers must be an int >= 1, got 0"),
    (["--population", "0"], "population must be an int >= 1, got 0"),
    (["--dev-fraction", "1.5"], "dev_fraction must be a number in (0, 1), got 1.5"),
    (["--space", "{missing}"], "cannot read search space file"),
    (["--space", "{bad_json}"], "is not valid JSON"),
    (["--space", "{unknown}"], "unknown hyperparameter 'learning_rat'"),
])
def test_cli_bad_inputs_exit_2_with_one_line(run_cli, tmp_path, args, message):
    (tmp_path / "bad.json").write_text('{"learning_rate": {"scale": "log", ')
    (tmp_path / "unknown.json").write_text('{"learning_rat": {"scale": "log", "low": 1e-4, "high": 1}}')
    paths = {"missing": tmp_path / "nope.json", "bad_json": tmp_path / "bad.json",
             "unknown": tmp_path / "unknown.json"}
    args = [a.format(**paths) for a in args]
    code, out, err = run_cli("tune", "--out", tmp_path / "out", *args)
    assert code == 2 and out == ""
    assert len(err.splitlines()) == 1 and err.startswith("signs: error: ") and message in err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("call, argument", [
    (lambda: loop.sample_trials(loop.DEFAULT_SPACE, 0, 0), "trials"),
    (lambda: loop.sample_trials(loop.default_space(), 2, -1), "seed"),
    (lambda: loop.check_settings(SPACE, 2, 1, "slurm", None, 0, 0.2, 0), "backend"),
    (lambda: loop.check_settings(SPACE, 2, 1, "local", 0, 0, 0.2, 0), "epochs"),
    (lambda: loop.check_settings(SPACE, 2, 1, "local", None, -1, 0.2, 0), "zoom_rounds"),
    (lambda: loop.check_settings(SPACE, 2, 1, "local", None, 0, True, 0), "dev_fraction"),
])
def test_bad_settings_name_the_argument(call, argument):
    with pytest.raises(SignsError, match=f"^{argument} must be") as err:
        call()
    assert err.value.argument == argument


def test_cli_without_out_is_refused(run_cli):
    code, _, err = run_cli("tune", "--trials", 2)
    assert code == 2 and err.strip() == ("signs: error: --out DIR is required: the search folder "
                                         "(run again with it to resume)")


def test_cli_end_to_end_with_final_test(data_dir, tmp_path):
    out = tmp_path / "search"
    proc = run_signs_subprocess("tune", "--trials", 2, "--workers", 2, "--epochs", 2, "--out", out,
                                "--final-test", "--data-dir", data_dir, "--device", "cpu", timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "round0/trial000: ok dev accuracy" in proc.stderr
    assert "2 of 2 trials finished" in proc.stdout and "Test Accuracy: " in proc.stdout
    log, final = read_json(out / "search.json"), read_json(out / "final" / "metrics.json")
    assert set(final) >= {"train_accuracy", "test_accuracy"} and "dev_accuracy" not in final
    assert log["final"]["test_accuracy"] == final["test_accuracy"]
    params = read_json(out / "final" / "params.json")
    best = log["best"]
    assert params["learning_rate"] == best["learning_rate"]
    assert params["hidden_units"] == [best["hidden_units_1"], best["hidden_units_2"]]
    assert len(read_rows(out)) == 2


def test_finalists_are_trained_again_with_other_seeds_and_picked_by_their_mean(signs, tmp_path):
    X, Y = signs.X_train[:, ::6], signs.Y_train[:, ::6]
    test = (signs.X_test[:, ::4], signs.Y_test[:, ::4])
    out = tmp_path / "search"

    def search_once():
        return loop.tune(loop.DEFAULT_SPACE, X, Y, out, trials=4, epochs=3, seed=2,
                           finalists=2, final_seeds=3, final_test=test, device="cpu")

    result = search_once()
    ok = sorted((r for r in result["rows"] if r["status"] == "ok"),
                key=lambda r: (r["dev_accuracy"], -r["final_cost"]), reverse=True)
    finalists = result["finalists"]
    assert sorted(f["run_dir"] for f in finalists) == sorted(r["run_dir"] for r in ok[:2])
    for f in finalists:
        name = f["run_dir"].replace("/", "-")
        again = [read_json(out / "finalists" / f"{name}-seed{k}" / "metrics.json")["dev_accuracy"]
                 for k in (1, 2)]
        first = next(r["dev_accuracy"] for r in ok if r["run_dir"] == f["run_dir"])
        assert f["dev_accuracies"] == [first, *again]
        assert f["mean_dev_accuracy"] == pytest.approx(sum(f["dev_accuracies"]) / 3)
        trial = runs.load_config(out / f["run_dir"])
        seeded = runs.load_config(out / "finalists" / f"{name}-seed2")
        assert seeded == trial.replace(seed=trial.seed + 2, tf_seed=trial.tf_seed + 2)
    assert finalists[0]["mean_dev_accuracy"] >= finalists[1]["mean_dev_accuracy"]
    assert result["best"]["run_dir"] == finalists[0]["run_dir"]
    assert runs.load_config(out / "final") == runs.load_config(out / finalists[0]["run_dir"])
    assert runs.load_config(out / "baseline") == TrainConfig(num_epochs=3)
    assert result["baseline"]["test_accuracy"] == \
        read_json(out / "baseline" / "metrics.json")["test_accuracy"]
    log = read_json(out / "search.json")
    assert log["finalists"] == finalists and log["baseline"] == result["baseline"]

    # A rerun trains nothing again and picks the same.
    files = {p: p.stat().st_mtime_ns for p in out.glob("*/*/metrics.json")}
    files.update({p: p.stat().st_mtime_ns for p in out.glob("*/metrics.json")})
    again = search_once()
    assert again["finalists"] == finalists and again["final"] == result["final"]
    assert {p: p.stat().st_mtime_ns for p in files} == files


def test_a_search_over_architectures_resumes_and_records_them(signs, tmp_path):
    X, Y = signs.X_train[:, ::8], signs.Y_train[:, ::8]
    space = {"conv_channels": {"scale": "choice", "values": [[], [4]]},
             "hidden_units": {"scale": "choice", "values": [[6], [8, 5]]}}
    first = loop.tune(space, X, Y, tmp_path, trials=4, epochs=1, seed=3, device="cpu")
    assert {r["conv_channels"] for r in first["rows"]} == {(), (4,)}
    for row in first["rows"]:
        cfg = runs.load_config(tmp_path / row["run_dir"])
        assert (cfg.conv_channels, cfg.hidden_units) == (row["conv_channels"], row["hidden_units"])
    files = {p: p.stat().st_mtime_ns for p in tmp_path.glob("round0/*/metrics.json")}
    again = loop.tune(space, X, Y, tmp_path, trials=4, epochs=1, seed=3, device="cpu")
    assert again["rows"] == first["rows"]
    assert {p: p.stat().st_mtime_ns for p in files} == files


def test_every_trial_failed_exits_1(run_cli, tmp_path):
    # A minibatch larger than the training set: every trial fails before it trains.
    space = tmp_path / "space.json"
    space.write_text(json.dumps({"minibatch_size": {"scale": "choice", "values": [4096]}}))
    code, out, err = run_cli("tune", "--space", space, "--trials", 2, "--epochs", 1,
                             "--out", tmp_path / "out", "--population", 1)
    assert code == 1
    assert "0 of 2 trials finished" in out
    assert err.count("failed SignsError: minibatch_size must be at most") == 2
    assert err.endswith("signs: error: every trial failed (see the reasons above and in results.csv)\n")
