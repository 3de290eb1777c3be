"""One search, two processes: ``signs tune`` twice on one PostgreSQL study, then a kill -9.

A throwaway PostgreSQL 15 server (``postgres.py``) holds the study; each
``signs tune`` runs in its own process as it would on its own machine. The
trials train 3 or 60 epochs on the full training set, so the tests cost mostly
the processes' start-up; waits poll with generous bounds.
"""
import json
import signal
import subprocess
import sys
import time

import optuna
import pytest

import postgres
from signs_model.search import database, study
from signs_model.errors import SignsError
from signs_model.atomic import read_csv, read_json

TRIALS = 6


@pytest.fixture(scope="module")
def server():
    why = postgres.available()
    if why:
        pytest.fail(why, pytrace=False)
    s = postgres.start()
    yield s
    s.stop()


def start_tune(out, log, server, name, data_dir, *extra):
    args = [sys.executable, "-m", "signs_model.cli", "tune", "--storage", server.url, "--study", name,
            "--trials", TRIALS, "--workers", 1, "--population", 1, "--out", out, "--data-dir",
            data_dir, "--device", "cpu", *extra]
    with open(f"{log}.out", "w") as o, open(f"{log}.err", "w") as e:
        return subprocess.Popen([str(a) for a in args], stdout=o, stderr=e)


def finish(proc, log, timeout=900):
    try:
        code = proc.wait(timeout=timeout)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert code == 0, open(f"{log}.err").read()[-3000:]


def load(server, name):
    return optuna.load_study(study_name=name, storage=database.open_storage(server.url, heartbeat=False))


def test_two_processes_share_one_search_and_train_each_trial_once(server, data_dir, tmp_path):
    procs = [start_tune(tmp_path / f"out{i}", tmp_path / f"log{i}", server, "shared", data_dir,
                        "--epochs", 3) for i in (0, 1)]
    for i, proc in enumerate(procs):
        finish(proc, tmp_path / f"log{i}")
    trials = load(server, "shared").get_trials()
    assert len(trials) == TRIALS and all(t.state.name == "COMPLETE" for t in trials)
    assert sorted(t.user_attrs["index"] for t in trials) == list(range(TRIALS))
    # Each trial was trained by one process: its run folder is in one --out, not both.
    trained = [{t.user_attrs["index"] for t in trials
                if (tmp_path / f"out{i}" / t.user_attrs["run_dir"] / "metrics.json").is_file()}
               for i in (0, 1)]
    assert trained[0] | trained[1] == set(range(TRIALS)) and not trained[0] & trained[1]
    assert trained[0] and trained[1], "both processes trained"
    # Both write the whole search's results, from the study.
    rows = [read_csv(tmp_path / f"out{i}" / "results.csv") for i in (0, 1)]
    assert rows[0] == rows[1] and len(rows[0]) == TRIALS
    for t in trials:
        row = rows[0][t.user_attrs["index"]]
        assert float(row["dev_accuracy"]) == pytest.approx(t.value, rel=1e-12)
        assert float(row["beta1"]) == t.params["beta1"]


def test_a_study_of_another_search_is_refused(server, data_dir, tmp_path):
    # The study of the test above holds the default space; a search of another space is refused.
    space = tmp_path / "space.json"
    space.write_text(json.dumps({"learning_rate": {"scale": "log", "low": 1e-4, "high": 1e-1}}))
    args = [sys.executable, "-m", "signs_model.cli", "tune", "--storage", server.url, "--study",
            "refuse", "--trials", 2, "--epochs", 1, "--out", tmp_path / "a", "--data-dir", data_dir]
    first = subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=600)
    assert first.returncode == 0, first.stderr[-2000:]
    again = subprocess.run([str(a) for a in args + ["--space", space]], capture_output=True,
                           text=True, timeout=600)
    assert again.returncode == 2 and again.stdout == ""
    assert again.stderr.startswith("signs: error: argument --study: study 'refuse' in "
                                   f"{database.shown(server.url)} holds a search with another search space")
    assert len(again.stderr.splitlines()) == 1 and "signs:signs@" not in again.stderr


def test_wrong_password_is_one_line(server):
    with pytest.raises(SignsError, match=r"^the study storage postgresql://signs:\*\*\*@127\.0\.0\.1:"
                                         r"\d+/signs refused the user name or password"):
        database.open_storage(server.url.replace("signs:signs@", "signs:wrong@"))


def test_kill_9_of_one_process_the_other_finishes_the_study_nothing_lost(server, data_dir, tmp_path):
    # Both share one --out: a trial of the killed process is retried by the other one, from its
    # last checkpoint (after 20 of its 60 epochs), once the heartbeat says its process is gone.
    out = tmp_path / "out"
    victim = start_tune(out, tmp_path / "victim", server, "kill", data_dir, "--epochs", 60)
    survivor = start_tune(out, tmp_path / "survivor", server, "kill", data_dir, "--epochs", 60)
    try:
        deadline = time.monotonic() + 600
        taken = None
        while taken is None:
            assert time.monotonic() < deadline, "no trial of the victim reached its checkpoint"
            assert victim.poll() is None, open(tmp_path / "victim.err").read()[-2000:]
            try:
                running = load(server, "kill").get_trials(states=(optuna.trial.TrialState.RUNNING,))
            except KeyError:  # the study is not created yet
                running = []
            for t in running:
                run = out / f"round0/trial{t.user_attrs['index']:03d}"
                if t.user_attrs.get("process", "").endswith(f":{victim.pid}") and \
                        list((run / "checkpoints").glob("*-20.index")):
                    taken = t
            time.sleep(0.2)
        victim.send_signal(signal.SIGKILL)
        victim.wait()
    finally:
        if victim.poll() is None:
            victim.kill()
            victim.wait()
    finish(survivor, tmp_path / "survivor")
    records = load(server, "kill")
    latest = study.latest(records)
    assert sorted(latest) == [(0, k) for k in range(TRIALS)]
    assert all(t.state.name == "COMPLETE" for t in latest.values())
    retry = latest[0, taken.user_attrs["index"]]
    assert retry.number != taken.number and retry.system_attrs["failed_trial"] == taken.number
    assert records.get_trials()[taken.number].state.name == "FAIL"
    # The retry resumed the cut run: a second segment from its checkpoint, all 60 epochs.
    run = out / retry.user_attrs["run_dir"]
    history = read_json(run / "params.json")["history"]
    assert len(history) == 2 and history[1]["start_epoch"] >= 20
    assert read_json(run / "metrics.json")["epochs"] == 60 and len(read_csv(run / "costs.csv")) == 60
    rows = read_csv(out / "results.csv")
    assert [r["status"] for r in rows] == ["ok"] * TRIALS


def test_two_searches_on_one_folder_share_its_study(data_dir, tmp_path):
    # Two `signs tune --out SAME` at once, with different --trials, on the folder's own SQLite
    # study: each trial is trained by one of them, and both report the same rows.
    out = tmp_path / "out"
    args = [sys.executable, "-m", "signs_model.cli", "tune", "--epochs", 2, "--workers", 1,
            "--population", 1, "--out", out, "--data-dir", data_dir, "--device", "cpu"]
    procs = []
    for i, trials in enumerate((2, 3)):
        with open(tmp_path / f"log{i}.out", "w") as o, open(tmp_path / f"log{i}.err", "w") as e:
            procs.append(subprocess.Popen([str(a) for a in args + ["--trials", trials]],
                                          stdout=o, stderr=e))
    for i, proc in enumerate(procs):
        finish(proc, tmp_path / f"log{i}")
    rows = read_csv(out / "results.csv")
    assert [r["run_dir"] for r in rows] == [f"round0/trial{k:03d}" for k in range(3)]
    assert all(r["status"] == "ok" for r in rows)
    for r in rows:  # trained once: one segment, and no process found it "already holding a run"
        assert len(read_json(out / r["run_dir"] / "params.json")["history"]) == 1
    for i in (0, 1):
        assert "already holds a run" not in open(tmp_path / f"log{i}.err").read()
