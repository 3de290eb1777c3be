"""Pruning (ASHA): decisions on hand-made curves, the rung store shared by processes, the
trainer's on_epoch hook, and a pruned search recorded, resumed and reported by the CLI."""
import multiprocessing

import pytest

from signs_model import pruning, runs, train
from signs_model.config import TrainConfig
from signs_model.errors import SignsError
from signs_model.files import read_csv, read_json

# Dev accuracy after 2, 4 and 8 epochs; the trials reach each rung in this order, one at a time.
CURVES = {"A": [0.30, 0.50, 0.70], "B": [0.20, 0.40, 0.60], "C": [0.10, 0.90, 0.90],
          "D": [0.40, 0.45, 0.80], "E": [0.25, 0.60, 0.65], "F": [0.35, 0.55, 0.50],
          "G": [0.30, 0.40, 0.90]}
# By hand, eta = 2 (after the first 2 at a rung, the top n // 2 of the n there go on, ties too):
# rung 2:  A, B first two; C 0.10 < 0.30 (best 1 of 3); D 0.40 >= 0.30 (2nd of 4);
#          E 0.25 < 0.30 (2nd of 5); F 0.35 >= 0.30 (3rd of 6); G 0.30 >= 0.30 (3rd of 7: a tie).
# rung 4:  A, B first two; D 0.45 < 0.50 (best of A .50, B .40, D); F 0.55 >= 0.50 (2nd of 4);
#          G 0.40 < 0.50 (2nd of 5).
# rung 8:  A, B first two; F 0.50 < 0.70 (best of A .70, B .60, F).
STOPPED_AT = {"A": None, "B": None, "C": 2, "D": 4, "E": 2, "F": 8, "G": 4}
ASHA = pruning.Asha(min_epochs=2, eta=2)


def test_rungs_are_min_epochs_times_powers_of_eta_short_of_the_budget():
    assert ASHA.rungs(10) == [2, 4, 8] and ASHA.rungs(8) == [2, 4] and ASHA.rungs(2) == []
    assert pruning.Asha().rungs(300) == [20, 60, 180]
    assert [e for e in range(1, 20) if ASHA.is_rung(e)] == [2, 4, 8, 16]


def test_decisions_on_hand_made_curves():
    recorded, stopped_at = {2: [], 4: [], 8: []}, {}
    for trial, curve in CURVES.items():
        stopped_at[trial] = None
        for rung, accuracy in zip(ASHA.rungs(10), curve):
            go_on = ASHA.decide(accuracy, recorded[rung])
            recorded[rung].append(accuracy)  # a stopped trial's accuracy counts for later ones
            if not go_on:
                stopped_at[trial] = rung
                break
    assert stopped_at == STOPPED_AT


def test_the_hook_and_the_store_make_the_same_decisions(tmp_path):
    store = pruning.RungStore(tmp_path / "rungs.json")
    stopped_at, reasons = {}, {}
    for trial, curve in CURVES.items():
        hook, stopped_at[trial] = pruning.RungHook(ASHA, store, trial), None
        accuracies = iter(curve)
        for epochs in range(1, 10):  # train.train calls it after every epoch but the last
            reason = hook(epochs, lambda name: next(accuracies))
            if reason:
                stopped_at[trial], reasons[trial] = epochs, reason
                break
    assert stopped_at == STOPPED_AT
    assert reasons["C"] == "not in the top 1 of the 3 trials at this rung (needed dev accuracy 0.3000)"
    assert reasons["F"] == "not in the top 1 of the 3 trials at this rung (needed dev accuracy 0.7000)"
    records = read_json(tmp_path / "rungs.json")["rungs"]
    assert records["4"] == {"A": 0.5, "B": 0.4, "D": 0.45, "F": 0.55, "G": 0.4}


def test_forget_drops_trials_and_everything_judged_on_other_data(tmp_path):
    store = pruning.RungStore(tmp_path / "rungs.json")
    store.forget([], {"seed": 0})
    for trial in "ABC":
        store.record(2, trial, 0.5)
    store.forget(["B"], {"seed": 0})
    assert store.read() == {"data": {"seed": 0}, "rungs": {"2": {"A": 0.5, "C": 0.5}}}
    store.forget([], {"seed": 1})
    assert store.read() == {"data": {"seed": 1}, "rungs": {}}


def _record_many(path, worker):
    store = pruning.RungStore(path)
    for k in range(25):
        store.record(20, f"w{worker}/t{k}", k / 25)


def test_the_store_keeps_every_record_of_processes_writing_at_once(tmp_path):
    # Each record reads the file, adds one entry and writes it back: without the lock,
    # processes writing at once would lose each other's entries.
    fork = multiprocessing.get_context("fork")  # the children only use files, not TensorFlow
    procs = [fork.Process(target=_record_many, args=(tmp_path / "rungs.json", w)) for w in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    assert [p.exitcode for p in procs] == [0] * 4
    assert len(pruning.RungStore(tmp_path / "rungs.json").read()["rungs"]["20"]) == 100


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
    with pytest.raises(train.Stopped, match=r"^stopped after 3 epochs: dev accuracy 0\.\d{4} will do$") as e:
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


def replay(records, rows, asha):
    """Where each trial should have stopped, given the rung records of a search run one trial
    at a time (so the trials reached each rung in their order)."""
    expected = {}
    for row in rows:
        expected[row["run_dir"]] = None
        for rung in sorted(map(int, records)):
            before = [v for name, v in records[str(rung)].items() if name < row["run_dir"]]
            if row["run_dir"] in records[str(rung)] and \
                    not asha.decide(records[str(rung)][row["run_dir"]], before):
                expected[row["run_dir"]] = rung
                break
    return expected


def test_a_pruned_search_records_its_trials_and_a_rerun_keeps_them(run_cli, tmp_path):
    # Seed 1 of the default space, 8 epochs, rungs after 2 and 4 epochs: 3 of 6 trials pruned.
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
    asha, records = pruning.Asha(2, 2), read_json(out / "rungs.json")["rungs"]
    stopped_at = {r["run_dir"]: int(r["reason"].split()[2]) if r["status"] == "pruned" else None
                  for r in rows}
    assert stopped_at == replay(records, rows, asha)
    for r in pruned:
        run = out / r["run_dir"]
        assert r["reason"].startswith(f"stopped after {stopped_at[r['run_dir']]} epochs: not in the top")
        assert f"{r['run_dir']}: pruned dev accuracy {float(r['dev_accuracy']):.4f} stopped after" in stderr
        assert not (run / "metrics.json").exists() and r["train_accuracy"] == ""
        stopped = runs.read_stopped(run)
        assert stopped["reason"] == r["reason"] and stopped["metrics"]["epochs"] == stopped_at[r["run_dir"]]
        assert len(read_csv(run / "costs.csv")) == stopped_at[r["run_dir"]]
        assert float(r["dev_accuracy"]) == stopped["metrics"]["dev_accuracy"]
    assert "| pruned: stopped after" in (out / "leaderboard.md").read_text()

    # The rerun trains nothing: pruned trials stay pruned, finished ones finished, records kept.
    files = {p: p.stat().st_mtime_ns for p in out.glob("round0/trial*/*.*")}
    rungs_before = (out / "rungs.json").read_bytes()
    code, stdout_again, _ = run_cli(*args)
    assert code == 0 and stdout_again == stdout
    assert read_csv(out / "results.csv") == rows
    assert {p: p.stat().st_mtime_ns for p in files} == files
    assert (out / "rungs.json").read_bytes() == rungs_before
    # Without --prune too (and with populations): a pruned trial is a result of this search
    # folder, not unfinished work.
    code, stdout_plain, _ = run_cli(*args[:-7])
    assert code == 0 and stdout_plain == stdout and read_csv(out / "results.csv") == rows
    assert {p: p.stat().st_mtime_ns for p in files} == files
