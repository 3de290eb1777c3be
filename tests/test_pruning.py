"""Pruning: the trainer's on_epoch hook, bad settings, and a pruned search (Optuna's successive
halving on the study) recorded, resumed and reported by the CLI. The decisions on hand-made
curves are in test_study.py."""
import optuna
import pytest

from signs_model import errors, runs, train
from signs_model.search import database, pruning
from signs_model.config import TrainConfig
from signs_model.errors import SignsError
from signs_model.atomic import read_csv


@pytest.mark.parametrize("kw, message", [({"min_epochs": 0}, "min_epochs must be an int >= 1, got 0"),
                                         ({"eta": 1}, "eta must be an int >= 2, got 1")])
def test_bad_settings_are_refused(kw, message):
    with pytest.raises(SignsError, match=message):
        pruning.Asha(**kw)


def test_the_hook_stops_training_at_its_epoch_and_the_folder_does_not_look_finished(signs, tmp_path):
    X, Y = signs.X_train[:, ::6], signs.Y_train[:, ::6]
    sets, run, calls = {"train": (X, Y), "dev": (X[:, :36], Y[:, :36])}, tmp_path / "run", []

    def stop_after_3(epochs, accuracy):
        calls.append(epochs)
        return f"dev accuracy {accuracy('dev'):.4f} will do" if epochs == 3 else None

    cfg = TrainConfig(num_epochs=6, hidden_units=(10, 6))
    with pytest.raises(errors.Stopped, match=r"^stopped after 3 epochs: dev accuracy 0\.\d{4} will do$") as e:
        train.train(cfg, X, Y, sets, run_dir=run, progress=False, eval_every=2, on_epoch=stop_after_3)
    assert calls == [1, 2, 3]
    # What was measured at the stop, not the train accuracy evaluated after epoch 2.
    assert e.value.metrics["epochs"] == 3 and "train_accuracy" not in e.value.metrics
    assert f"{e.value.metrics['dev_accuracy']:.4f}" in str(e.value)
    assert runs.read_stopped(run) == {"reason": str(e.value), "metrics": e.value.metrics}
    assert runs.latest_checkpoint(run)[1] == 3 and len(read_csv(run / "costs.csv")) == 3
    for end_of_run in ("metrics.json", "parameters.npz", "cost.png"):
        assert not (run / end_of_run).exists()
    assert runs.read_metrics(run) is None

    # Stopped, not finished: it resumes like a run cut by Ctrl-C, and then is no longer stopped.
    calls.clear()
    result = train.train(train.resume_config(run), X, Y, sets, run_dir=run, resume=True,
                         progress=False, on_epoch=lambda epochs, accuracy: calls.append(epochs))
    assert calls == [4, 5]  # not after the last epoch: training ends there anyway
    assert result["metrics"]["epochs"] == 6 and runs.read_metrics(run)["epochs"] == 6
    assert runs.read_stopped(run) is None


@pytest.mark.parametrize("flag, value, message", [
    ("--prune-eta", 1, "argument --prune-eta: eta must be an int >= 2, got 1"),
    ("--prune-min-epochs", 0, "argument --prune-min-epochs: min_epochs must be an int >= 1, got 0"),
])
def test_cli_bad_prune_settings_exit_2_with_one_line(run_cli, tmp_path, flag, value, message):
    code, out, err = run_cli("tune", "--out", tmp_path / "out", "--prune", flag, value)
    assert code == 2 and out == "" and err == f"signs: error: {message}\n"
    assert not (tmp_path / "out").exists()


def promoted(value, others, eta):
    """Optuna's rule at a rung: among the n values there (its own too), at least the
    (n // eta)-th best, or the best while n < eta."""
    ranked = sorted([value, *others], reverse=True)
    return value >= ranked[max(len(ranked) // eta - 1, 0)]


def replay(trials, eta):
    """Where each trial should have stopped, given the values the study recorded at each rung
    (``completed_rung_<i>``) by trials that ran one at a time, in their numbers' order."""
    expected = {}
    for t in trials:
        expected[t.user_attrs["run_dir"]] = None
        for i, rung in enumerate((2, 4)):
            key = f"completed_rung_{i}"
            before = [u.system_attrs[key] for u in trials if u.number < t.number and key in u.system_attrs]
            if key in t.system_attrs and not promoted(t.system_attrs[key], before, eta):
                expected[t.user_attrs["run_dir"]] = rung
                break
    return expected


def test_a_pruned_search_records_its_trials_and_a_rerun_keeps_them(run_cli, tmp_path):
    # Seed 1 of the default space, 8 epochs, rungs after 2 and 4 epochs.
    # One trial at a time (--population 1), so they reach each rung in their order.
    out = tmp_path / "search"
    args = ["tune", "--trials", 6, "--workers", 1, "--epochs", 8, "--seed", 1, "--out", out,
            "--device", "cpu", "--prune", "--prune-min-epochs", 2, "--prune-eta", 2,
            "--population", 1]
    code, stdout, stderr = run_cli(*args)
    assert code == 0, stderr
    rows = read_csv(out / "results.csv")
    pruned = [r for r in rows if r["status"] == "pruned"]
    assert pruned and len(pruned) < len(rows)
    assert f"{len(rows) - len(pruned)} of 6 trials finished ({len(pruned)} pruned)" in stdout
    trials = optuna.load_study(study_name="search", storage=database.open_storage(
        database.default_storage(out), heartbeat=False)).get_trials()
    stopped_at = {r["run_dir"]: int(r["reason"].split()[2]) if r["status"] == "pruned" else None
                  for r in rows}
    assert stopped_at == replay(trials, 2)
    for r in pruned:
        run = out / r["run_dir"]
        assert r["reason"].startswith(f"stopped after {stopped_at[r['run_dir']]} epochs: dev accuracy")
        assert f"{r['run_dir']}: pruned dev accuracy {float(r['dev_accuracy']):.4f} stopped after" in stderr
        assert not (run / "metrics.json").exists() and r["train_accuracy"] == ""
        stopped = runs.read_stopped(run)
        assert stopped["reason"] == r["reason"] and stopped["metrics"]["epochs"] == stopped_at[r["run_dir"]]
        assert len(read_csv(run / "costs.csv")) == stopped_at[r["run_dir"]]
        assert float(r["dev_accuracy"]) == stopped["metrics"]["dev_accuracy"]
        t = next(t for t in trials if t.user_attrs["run_dir"] == r["run_dir"])
        assert t.state.name == "PRUNED" and max(t.intermediate_values) == stopped_at[r["run_dir"]]
    assert "| pruned: stopped after" in (out / "leaderboard.md").read_text()

    # The rerun trains nothing: pruned trials stay pruned, finished ones finished.
    files = {p: p.stat().st_mtime_ns for p in out.glob("round0/trial*/*.*")}
    code, stdout_again, _ = run_cli(*args)
    assert code == 0 and stdout_again == stdout
    assert read_csv(out / "results.csv") == rows
    assert {p: p.stat().st_mtime_ns for p in files} == files
    # Without --prune too (and with populations): a pruned trial is a result of this search.
    code, stdout_plain, _ = run_cli(*args[:-7])
    assert code == 0 and stdout_plain == stdout and read_csv(out / "results.csv") == rows
    assert {p: p.stat().st_mtime_ns for p in files} == files
