"""Faults of a running search: ``kill -9`` of ``signs tune`` and the rerun after it.

The first two tests run the real ``signs tune`` in a subprocess on the full
training set, kill it with SIGKILL at a chosen moment and look at its processes
(through /proc, so Linux only) and at its folder; the third checks the
portable fallback (a thread watching the parent pid) on its own. Waits poll
with generous bounds, so a loaded machine makes them slower, not flaky.
"""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from signs_model import runs
from signs_model.search import study_trials
from signs_model.atomic import read_csv, read_json
from signs_model.search.space import SearchSpace

pytestmark = pytest.mark.skipif(not Path("/proc/self/task").is_dir(),
                                reason="finds worker processes through Linux /proc")

START_S = 300  # worker processes import TensorFlow and build a graph before a trial starts
GONE_S = 30    # after the parent dies, its workers must be gone within this


def start_tune(tmp_path, space, trials, workers, seed, data_dir, population=1):
    """``signs tune`` on ``space`` in a subprocess (its output goes to files, not to a pipe),
    by default one graph per trial (``--population 1``): each trial a task of its own."""
    (tmp_path / "space.json").write_text(json.dumps(space))
    args = [sys.executable, "-m", "signs_model.cli", "tune", "--space", str(tmp_path / "space.json"),
            "--trials", str(trials), "--workers", str(workers), "--seed", str(seed),
            "--population", str(population),
            "--out", str(tmp_path / "search"), "--data-dir", str(data_dir), "--device", "cpu"]
    with open(tmp_path / "stdout.txt", "w") as out, open(tmp_path / "stderr.txt", "w") as err:
        return subprocess.Popen(args, stdout=out, stderr=err)


def wait_for(condition, seconds, what):
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"waited {seconds} s for {what}")
        time.sleep(0.1)


def workers_of(pid):
    """The pids of the spawned pool workers among ``pid``'s children (not its resource tracker)."""
    children = set()
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            children.update(int(c) for c in (task / "children").read_text().split())
        except OSError:
            pass
    return [c for c in children if b"spawn_main" in _read(f"/proc/{c}/cmdline")]


def running(pid):
    """True while ``pid`` exists and is not a zombie (an orphan's zombie waits for init to reap it)."""
    stat = _read(f"/proc/{pid}/stat")
    return bool(stat) and stat.rsplit(b")", 1)[1].split()[0] not in (b"Z", b"X")


def _read(path):
    try:
        return Path(path).read_bytes()
    except OSError:
        return b""


def kill_9(proc):
    """SIGKILL the search; return its workers that still run ``GONE_S`` s later (and end those)."""
    workers = workers_of(proc.pid)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    deadline = time.monotonic() + GONE_S
    while any(running(w) for w in workers) and time.monotonic() < deadline:
        time.sleep(0.2)
    left = [w for w in workers if running(w)]
    for w in left:  # never leave an orphan training behind, even when the test fails
        os.kill(w, signal.SIGKILL)
    return workers, left


def trial(tmp_path, k):
    return tmp_path / "search" / "round0" / f"trial{k:03d}"


@pytest.mark.parametrize("population, tasks", [(1, 2), (2, 1)])  # a worker per trial, or both in one
def test_kill_9_of_the_search_ends_its_worker_processes(tmp_path, data_dir, population, tasks):
    # Two trials that would train for hours: only the parent's death can end them in time.
    proc = start_tune(tmp_path, {"num_epochs": {"scale": "choice", "values": [100000]}},
                      trials=2, workers=2, seed=0, data_dir=data_dir, population=population)
    try:
        # Both trials have started training: the workers are past their initializer.
        wait_for(lambda: all((trial(tmp_path, k) / "params.json").is_file() for k in (0, 1))
                 or proc.poll() is not None, START_S, "both trials to start")
        assert proc.poll() is None, (tmp_path / "stderr.txt").read_text()[-2000:]
        assert all(running(w) for w in workers_of(proc.pid))
        workers, left = kill_9(proc)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert len(workers) == tasks
    assert left == [], f"workers {left} still running {GONE_S} s after kill -9 of their search"


def test_rerun_after_kill_9_keeps_finished_trials_and_resumes_the_cut_one(tmp_path, data_dir):
    # One worker; seed 23 draws num_epochs 2, 100, 2: trial 0 finishes, trial 1 is cut by
    # the kill after its first checkpoint, trial 2 has not started.
    space = {"num_epochs": {"scale": "choice", "values": [2, 100]}}
    assert [t["num_epochs"] for t in SearchSpace.from_dict(space).sample(3, seed=23)] == \
        [2, 100, 2]
    proc = start_tune(tmp_path, space, trials=3, workers=1, seed=23, data_dir=data_dir)
    try:
        wait_for(lambda: list((trial(tmp_path, 1) / "checkpoints").glob("*-20.index"))
                 or proc.poll() is not None, START_S, "trial 1's first checkpoint")
        assert proc.poll() is None, (tmp_path / "stderr.txt").read_text()[-2000:]
        workers, left = kill_9(proc)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    # Nothing of the killed search still writes into the folder the rerun will use.
    assert len(workers) == 1 and left == []
    kept = trial(tmp_path, 0) / "metrics.json"
    before = (kept.read_bytes(), kept.stat().st_mtime_ns)
    cut = trial(tmp_path, 1)
    assert not (cut / "metrics.json").exists() and not trial(tmp_path, 2).exists()
    # A folder without metrics.json is not a finished trial, and neither is a torn one.
    notes, config = read_json(cut / "params.json")["notes"], runs.load_config(cut)
    assert study_trials.finished(str(cut), config, notes) is None
    (cut / "metrics.json").write_text('{"dev_accuracy": 0.9')
    assert study_trials.finished(str(cut), config, notes) is None

    rerun = start_tune(tmp_path, space, trials=3, workers=1, seed=23, data_dir=data_dir)
    try:
        assert rerun.wait(timeout=600) == 0, (tmp_path / "stderr.txt").read_text()[-2000:]
    finally:
        if rerun.poll() is None:
            rerun.kill()
            rerun.wait()
    assert (kept.read_bytes(), kept.stat().st_mtime_ns) == before  # kept, not retrained
    rows = read_csv(tmp_path / "search" / "results.csv")
    assert [(r["run_dir"], r["num_epochs"], r["status"]) for r in rows] == \
        [("round0/trial000", "2", "ok"), ("round0/trial001", "100", "ok"), ("round0/trial002", "2", "ok")]
    assert float(rows[0]["dev_accuracy"]) == read_json(kept)["dev_accuracy"]
    # The study failed the cut attempt once its heartbeat stopped, and the rerun resumed it from
    # its last checkpoint: a second segment, all its epochs.
    history = read_json(cut / "params.json")["history"]
    assert len(history) == 2 and history[1]["start_epoch"] >= 20
    assert len(read_csv(cut / "costs.csv")) == 100 and read_json(cut / "metrics.json")["epochs"] == 100
    assert "3 of 3 trials finished" in (tmp_path / "stdout.txt").read_text()


CHILD = """
import ctypes, sys, time
from signs_model.search import executors
executors._exit_with_parent(int(sys.argv[1]))
libc, death_signal = ctypes.CDLL(None), ctypes.c_int()
libc.prctl(2, ctypes.byref(death_signal), 0, 0, 0)  # PR_GET_PDEATHSIG: set to SIGKILL?
libc.prctl(1, 0, 0, 0, 0)  # clear PR_SET_PDEATHSIG: only the watching thread is left
print("ready", death_signal.value, flush=True)
time.sleep(600)
"""
PARENT = """
import os, subprocess, sys
child = subprocess.Popen([sys.executable, "-c", sys.argv[1], str(os.getpid())],
                         stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
ready, death_signal = child.stdout.readline().split()
print(child.pid, int(death_signal), flush=True)
os._exit(0)  # the parent dies first, as with kill -9: nobody stops the child
"""


def test_the_portable_fallback_ends_a_worker_whose_parent_died():
    proc = subprocess.run([sys.executable, "-c", PARENT, CHILD], capture_output=True, text=True,
                          timeout=START_S)
    assert proc.returncode == 0, proc.stderr[-2000:]
    child, death_signal = map(int, proc.stdout.split())
    try:
        deadline = time.monotonic() + GONE_S
        while running(child) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not running(child), f"child {child} still running {GONE_S} s after its parent died"
        assert death_signal == signal.SIGKILL  # and on Linux the kernel was asked to kill it
    finally:
        if running(child):
            os.kill(child, signal.SIGKILL)
