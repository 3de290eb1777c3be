"""One owner per run folder, and atomic writes that never collide (docs/reliability.md).

A holder process takes a folder's lock the way training does (``runs.open_for_writing``)
and waits; what a second command does meanwhile is checked, then the holder is
killed with SIGKILL and the folder must be free again at once.
"""
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
from matplotlib.figure import Figure

from conftest import balanced
from signs_model import data, runs, train
from signs_model.config import TrainConfig
from signs_model.errors import SignsError
from signs_model.experiments import regularization
from signs_model.atomic import atomic_write_bytes, owned
from signs_model.plots import finish
from signs_model.search.population import train_population

REPO = Path(__file__).resolve().parents[1]
HOLD = """
import sys, time
from signs_model import runs
with runs.open_for_writing(sys.argv[1]):
    print("held", flush=True)
    time.sleep(120)
"""


@pytest.fixture
def holder(tmp_path):
    """A process that owns tmp_path/run as training would; yields (folder, process)."""
    folder = tmp_path / "run"
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(folder)], cwd=REPO,
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline() == "held\n"
        yield folder, proc
    finally:
        proc.kill()
        proc.wait()


@pytest.fixture(scope="module")
def tiny(signs):
    return balanced(signs, 6)


TINY = TrainConfig(num_epochs=2, minibatch_size=16, hidden_units=(4,))


def in_use(folder, pid):
    return f"run folder {folder} is in use by process {pid}; expected a folder no other command"


def test_a_second_train_on_a_folder_in_use_is_refused_in_one_line(holder, run_cli, data_dir):
    folder, proc = holder
    code, out, err = run_cli("train", "--data-dir", data_dir, "--out", folder, "--epochs", 1,
                             "--no-progress", "--print-every", 0)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and in_use(folder, proc.pid) in err
    assert not (folder / runs.PARAMS).exists()  # nothing of the holder's folder was touched


def test_the_lock_dies_with_its_process(holder, tiny):
    folder, proc = holder
    with pytest.raises(SignsError, match=in_use(folder, proc.pid)):
        train.train(TINY, *tiny, run_dir=folder, progress=False)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    result = train.train(TINY, *tiny, run_dir=folder, progress=False)  # free at once
    assert runs.read_metrics(folder)["epochs"] == 2 == len(result["costs"])


def test_population_training_owns_its_run_folders(holder, tiny, tmp_path):
    folder, proc = holder
    free = tmp_path / "free"
    with pytest.raises(SignsError, match=in_use(folder, proc.pid)):
        train_population([TINY, TINY.replace(learning_rate=1e-3)], *tiny,
                         run_dirs=[free, folder], progress=False)
    assert not (free / runs.PARAMS).exists() or runs.read_metrics(free) is None
    # and one population cannot train two of its trials into one folder
    with pytest.raises(SignsError, match=in_use(free, os.getpid())):
        train_population([TINY, TINY.replace(learning_rate=1e-3)], *tiny,
                         run_dirs=[free, free], progress=False)


def test_a_folder_is_owned_once_in_one_process_too(tmp_path):
    with owned(tmp_path, "search folder"):
        with pytest.raises(SignsError, match=f"search folder {tmp_path} is in use by process "
                                             f"{os.getpid()}"):
            with owned(tmp_path, "search folder"):
                pass
    with owned(tmp_path):  # released when the block ends
        pass


def test_an_experiment_owns_its_out_folder(tiny, tmp_path):
    """Two experiments into one --out would interleave their rows in one results table."""
    with owned(tmp_path, "experiment folder"):  # another experiment, as far as the lock knows
        with pytest.raises(SignsError, match=f"experiment folder {tmp_path} is in use by process"):
            regularization(*tiny, *tiny, configs={"plain": {}}, epochs=1, base=TINY,
                           out_dir=tmp_path)
    assert not (tmp_path / "regularization.csv").exists()
    result = regularization(*tiny, *tiny, configs={"plain": {}}, epochs=1, base=TINY,
                            out_dir=tmp_path)
    assert [r["status"] for r in result["rows"]] == ["ok"]


def test_a_data_build_owns_its_out_folder_while_it_writes_the_pair(tmp_path):
    """Two builds into one folder could leave one's train file beside the other's test file."""
    pair = ((np.zeros((2, 64, 64, 3)), [0, 1]), (np.zeros((1, 64, 64, 3)), [1]), [0, 1])
    with owned(tmp_path, "data folder"):
        with pytest.raises(SignsError, match=f"data folder {tmp_path} is in use by process"):
            data.write_dataset(tmp_path, *pair)
    assert not list(tmp_path.glob("*.h5"))
    data.write_dataset(tmp_path, *pair)
    assert data.load_dataset(tmp_path)[0].shape == (2, 64, 64, 3)


def test_a_folder_that_cannot_hold_a_lock_is_named(tmp_path):
    with pytest.raises(SignsError, match=f"cannot write the run folder {tmp_path / 'nowhere'}"):
        with owned(tmp_path / "nowhere", "run folder"):
            pass


def test_new_run_folders_started_in_the_same_second_differ(tmp_path, monkeypatch):
    class Frozen:
        @staticmethod
        def now():
            from datetime import datetime
            return datetime(2026, 1, 2, 3, 4, 5)

    monkeypatch.setattr(runs, "datetime", Frozen)
    first, second = runs.new_run_dir(tmp_path), runs.new_run_dir(tmp_path)
    assert (first.name, second.name) == ("20260102-030405", "20260102-030405-1")
    assert first.is_dir() and second.is_dir()


def write_side_by_side(write, n_threads=8, times=40):
    """Run ``write(i)`` from several threads at once; returns the errors they met."""
    errors, start = [], threading.Barrier(n_threads)

    def work(t):
        start.wait()
        for i in range(times):
            try:
                write(t * times + i)
            except Exception as e:  # noqa: BLE001 - any failure is the finding
                errors.append(e)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors


def test_threads_writing_one_file_never_collide(tmp_path):
    path = tmp_path / "results.csv"
    errors = write_side_by_side(lambda i: atomic_write_bytes(path, f"{i}\n".encode() * 100))
    assert errors == []
    lines = path.read_text().splitlines()
    assert len(lines) == 100 and len(set(lines)) == 1  # whole: one writer's content
    assert not list(tmp_path.glob(".tmp-*"))


def draw(path):
    fig = Figure(figsize=(1, 1))
    fig.add_subplot().plot(np.arange(3))
    finish(fig, path, show=False)


@pytest.mark.parametrize("write", [lambda path: atomic_write_bytes(path, b"x" * 100), draw],
                         ids=["bytes", "figure"])
def test_two_writers_that_meet_at_the_rename_both_land(tmp_path, monkeypatch, write):
    """Both write their temp file, then both rename it: with one temp name between them,
    the second rename finds nothing (`No such file or directory`)."""
    path, meet, rename = tmp_path / "dev_accuracy.png", threading.Barrier(2, timeout=60), os.replace

    def rename_together(src, dst):
        meet.wait()
        rename(src, dst)

    monkeypatch.setattr(os, "replace", rename_together)
    assert write_side_by_side(lambda i: write(path), n_threads=2, times=1) == []
    assert path.exists() and not list(tmp_path.glob(".tmp-*"))
