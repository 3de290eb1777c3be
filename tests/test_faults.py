"""Faults that must not lose work or end in a traceback: kill -9 at exact points of a run,
damaged run folders, moved run folders, read-only and full disks, Ctrl-C at start-up.

A run is cut with $SIGNS_FAILPOINT (``files.failpoint``: the process SIGKILLs
itself at a named point), then resumed or restarted; the costs must be those of
the same run left alone, bit for bit (same machine, same seeds).
"""
import ctypes
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest

from signs_model import data, runs, train
from signs_model.config import TrainConfig
from signs_model.errors import SignsError
from signs_model.predict import Predictor

from conftest import run_signs_subprocess

HPARAMS = {"--epochs": 6, "--minibatch-size": 16, "--learning-rate": 1e-3, "--keep-prob": 0.8}
QUIET = ["--no-progress", "--print-every", "0"]


@pytest.fixture(scope="module")
def tiny_dir(data_dir, tmp_path_factory):
    """64 training and 12 test photos of SIGNS, so that a run takes a second."""
    train_x, train_y, test_x, test_y, classes = data.load_dataset(data_dir)
    folder = tmp_path_factory.mktemp("tiny")
    data.write_dataset(folder, (train_x[:64], train_y[0, :64]), (test_x[:12], test_y[0, :12]),
                       classes)
    os.chmod(folder, 0o755)  # readable by the unprivileged user of the read-only tests
    return folder


@pytest.fixture(scope="module")
def reference(tiny_dir):
    """The costs of the fault runs' configuration, trained without interruption."""
    d = data.load_signs(tiny_dir)
    cfg = TrainConfig(num_epochs=6, minibatch_size=16, learning_rate=1e-3, keep_prob=0.8)
    return train.train(cfg, d.X_train, d.Y_train, progress=False)["costs"]


def signs_train(tiny_dir, *args, failpoint=None, **kw):
    env = {"SIGNS_FAILPOINT": failpoint} if failpoint else {}
    return run_signs_subprocess("train", "--data-dir", tiny_dir, *args, *QUIET, env=env, **kw)


def fresh_run(tiny_dir, run, failpoint=None):
    flags = [str(v) for kv in HPARAMS.items() for v in kv]
    return signs_train(tiny_dir, "--out", run, "--checkpoint-every", "2", *flags,
                       failpoint=failpoint)


def costs_of(run):
    return runs.read_costs(run, 6)


def one_error_line(err):
    """The one line on stderr: the error."""
    lines = err.strip().splitlines()
    assert "Traceback" not in err and len(lines) == 1, err
    return lines[0]


# --- kill -9 at each point of a run, then resume or restart --------------------------------

@pytest.mark.parametrize("point", ["params-written", "checkpoint-2", "checkpoint-4",
                                   "replace-parameters.npz", "replace-metrics.json"])
def test_killed_run_resumes_to_the_uninterrupted_costs(tiny_dir, reference, tmp_path, point):
    run = tmp_path / "run"
    killed = fresh_run(tiny_dir, run, failpoint=point)
    assert killed.returncode == -signal.SIGKILL
    assert runs.read_metrics(run) is None  # never looks finished
    if point.startswith("replace-"):  # cut between a temp file and its rename
        assert list(run.glob(".tmp-*"))
    resumed = signs_train(tiny_dir, "--resume", run)
    assert resumed.returncode == 0, resumed.stderr
    assert costs_of(run) == reference
    assert runs.read_metrics(run)["epochs"] == 6
    assert not list(run.glob(".tmp-*"))
    predictor = Predictor(run)  # the finished folder predicts
    predictor.close()


def test_run_killed_before_its_first_checkpoint_can_be_started_again(tiny_dir, reference, tmp_path):
    run = tmp_path / "run"
    assert fresh_run(tiny_dir, run, failpoint="params-written").returncode == -signal.SIGKILL
    again = fresh_run(tiny_dir, run)  # the same --out: nothing is lost by starting over
    assert again.returncode == 0, again.stderr
    assert costs_of(run) == reference
    history = json.loads((run / "params.json").read_text())["history"]
    assert [h["start_epoch"] for h in history] == [0]


def test_run_killed_after_its_last_checkpoint_is_finished_by_resume(tiny_dir, tmp_path, own_images):
    run = tmp_path / "run"
    assert fresh_run(tiny_dir, run, failpoint="replace-parameters.npz").returncode == -signal.SIGKILL
    assert runs.latest_checkpoint(run)[1] == 6  # every epoch is done: only the end files are missing
    refused = run_signs_subprocess("predict", "--run", run, own_images[0])
    assert refused.returncode == 2
    assert "the run did not finish (no metrics.json; its last checkpoint holds 6 epochs)" in (
        one_error_line(refused.stderr))
    resumed = signs_train(tiny_dir, "--resume", run)
    assert resumed.returncode == 0, resumed.stderr
    assert runs.read_metrics(run)["epochs"] == 6
    again = signs_train(tiny_dir, "--resume", run)  # finished now: says so
    assert again.returncode == 2 and "already finished" in one_error_line(again.stderr)


def test_a_resume_killed_mid_segment_is_not_taken_for_a_finished_run(tiny_dir, tmp_path,
                                                                       own_images, run_cli):
    """Its parameters.npz is the previous segment's: predict and evaluate refuse the run,
    unless its last checkpoint is asked for."""
    run = tmp_path / "run"
    assert fresh_run(tiny_dir, run).returncode == 0
    old = runs.load_parameters(run)
    killed = signs_train(tiny_dir, "--resume", run, "--epochs", 4, "--checkpoint-every", 2,
                         failpoint="checkpoint-8")  # of 6 + 4 epochs
    assert killed.returncode == -signal.SIGKILL
    assert (run / runs.PARAMETERS).exists() and runs.read_metrics(run) is None
    expected = (f"{run}: the run did not finish (no metrics.json; its last checkpoint holds "
                f"8 epochs)")
    for command in (["predict", "--run", run, own_images[0]],
                    ["evaluate", "--run", run, "--photos", own_images[0].parent]):
        code, out, err = run_cli(*command)
        assert code == 2 and out == "" and expected in one_error_line(err)
        code, out, err = run_cli(*command, "--checkpoint", "last")
        assert code == 0 and err == "" and "(p=" in out
    last = runs.load_parameters(run, checkpoint="last")  # the model's variables, no Adam slots
    assert sorted(last) == sorted(old)
    assert not np.array_equal(last["W1"], old["W1"])  # two more epochs moved them
    assert Predictor(run, checkpoint="last").config.num_epochs == 10


def test_the_last_checkpoint_of_a_finished_run_is_its_parameters(tmp_path, signs):
    """Batch norm's moving averages are in both; the optimizer's slots in neither."""
    cfg = TrainConfig(num_epochs=2, minibatch_size=32, hidden_units=(5,), batch_norm=True)
    train.train(cfg, signs.X_train[:, :64], signs.Y_train[:, :64], run_dir=tmp_path,
                progress=False)
    final, last = runs.load_parameters(tmp_path), runs.load_parameters(tmp_path, "last")
    assert sorted(last) == sorted(final) and "bn1/moving_mean" in last
    for name in final:
        np.testing.assert_array_equal(last[name], final[name])
    with pytest.raises(SignsError, match="checkpoint must be one of final, last, got 'best'"):
        runs.load_parameters(tmp_path, "best")
    shutil.rmtree(tmp_path / runs.CHECKPOINTS)
    with pytest.raises(SignsError, match="no checkpoint in checkpoints/"):
        runs.load_parameters(tmp_path, "last")


def test_finished_run_is_not_overwritten(tiny_dir, tmp_path):
    run = tmp_path / "run"
    assert fresh_run(tiny_dir, run).returncode == 0
    before = (run / "metrics.json").read_bytes()
    again = fresh_run(tiny_dir, run)
    assert again.returncode == 2 and "already holds a run" in one_error_line(again.stderr)
    assert (run / "metrics.json").read_bytes() == before


# --- dropout and batch norm resume exactly, in both engines -------------------------------

@pytest.mark.parametrize("engine", ["fast", "feed"])
def test_dropout_resumes_bit_for_bit(signs, tmp_path, engine):
    X, Y = signs.X_train[:, :96], signs.Y_train[:, :96]
    cfg = TrainConfig(num_epochs=4, minibatch_size=32, learning_rate=1e-3, keep_prob=0.7)
    straight = train.train(cfg, X, Y, engine=engine, progress=False)
    run = tmp_path / "run"
    train.train(cfg.replace(num_epochs=2), X, Y, run_dir=run, engine=engine, progress=False)
    resumed = train.train(train.resume_config(run, epochs=2), X, Y, run_dir=run, resume=True,
                          engine=engine, progress=False)
    assert resumed["costs"] == straight["costs"]
    no_dropout = train.train(cfg.replace(keep_prob=1.0), X, Y, engine=engine, progress=False)
    assert no_dropout["costs"] != straight["costs"]  # dropout was on


def test_dropout_masks_are_the_same_in_both_engines(signs):
    X, Y = signs.X_train[:, :96], signs.Y_train[:, :96]
    cfg = TrainConfig(num_epochs=3, minibatch_size=32, learning_rate=1e-3, keep_prob=0.7)
    fast = train.train(cfg, X, Y, progress=False)["costs"]
    feed = train.train(cfg, X, Y, engine="feed", progress=False)["costs"]
    # The same masks and minibatches; only float32 summation order may differ between the
    # engines' kernels: a few float32 ulps of costs near 2 (eps32 = 1.2e-7).
    np.testing.assert_allclose(fast, feed, rtol=0, atol=64 * np.finfo(np.float32).eps)


# --- run folders that were moved, damaged or emptied --------------------------------------

def test_a_moved_run_folder_resumes_and_predicts(signs, tmp_path):
    X, Y = signs.X_train[:, :64], signs.Y_train[:, :64]
    cfg = TrainConfig(num_epochs=4, learning_rate=1e-3)
    straight = train.train(cfg, X, Y, progress=False)
    first = tmp_path / "a"
    train.train(cfg.replace(num_epochs=2), X, Y, run_dir=first, progress=False)
    index = (first / "checkpoints" / "checkpoint").read_text()
    assert str(tmp_path) not in index  # relative paths only
    moved = tmp_path / "elsewhere" / "b"
    moved.parent.mkdir()
    shutil.move(first, moved)
    resumed = train.train(train.resume_config(moved, epochs=2), X, Y, run_dir=moved, resume=True,
                          progress=False)
    assert resumed["costs"] == straight["costs"]
    Predictor(moved).close()


@pytest.fixture
def finished_run(tiny_dir, tmp_path):
    run = tmp_path / "run"
    assert fresh_run(tiny_dir, run).returncode == 0
    return run


@pytest.mark.parametrize("name", ["params.json", "parameters.npz"])
def test_truncated_run_files_give_one_line(finished_run, run_cli, name, tiny_dir, own_images):
    path = finished_run / name
    path.write_bytes(path.read_bytes()[:40])
    code, _, err = run_cli("predict", "--run", finished_run, own_images[0])
    assert code == 2 and name in one_error_line(err)
    if name == "params.json":
        code, _, err = run_cli("train", "--data-dir", tiny_dir, "--resume", finished_run,
                               "--epochs", 1, *QUIET)
        assert code == 2 and name in one_error_line(err)


def test_deleted_costs_csv_is_named(finished_run, run_cli, tiny_dir):
    (finished_run / "costs.csv").unlink()
    code, _, err = run_cli("train", "--data-dir", tiny_dir, "--resume", finished_run,
                           "--epochs", 1, *QUIET)
    assert code == 2 and "costs.csv is missing" in one_error_line(err)


def test_parameters_of_another_network_are_refused(finished_run):
    arrays = runs.load_parameters(finished_run)
    arrays["W2"] = arrays["W2"][:5]
    np.savez(finished_run / "parameters.npz", **arrays)
    with pytest.raises(SignsError, match="for W2; expected"):
        Predictor(finished_run)


# --- where a run cannot be written -------------------------------------------------------

def without_root_override():
    """preexec_fn that makes root obey permission bits, as any other user must.

    Root writes into mode-555 folders; dropping CAP_DAC_OVERRIDE and
    CAP_DAC_READ_SEARCH from the child's capability bounding set (prctl
    PR_CAPBSET_DROP) before exec makes it see them as read-only.
    """
    if os.geteuid() != 0:
        return None

    def drop():
        libc = ctypes.CDLL(None, use_errno=True)
        for capability in (1, 2):  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH
            if libc.prctl(24, capability, 0, 0, 0) != 0:  # PR_CAPBSET_DROP
                raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")
    return drop


@pytest.fixture
def read_only_dir():
    folder = Path(tempfile.mkdtemp(prefix="signs-ro-"))
    os.chmod(folder, 0o555)
    yield folder
    os.chmod(folder, 0o755)
    shutil.rmtree(folder)


def read_only_user(*args, cwd=None):
    return run_signs_subprocess(*args, preexec_fn=without_root_override(), cwd=cwd)


@pytest.mark.parametrize("where", ["out", "default runs/", "tune --out"])
def test_read_only_places_are_refused_before_training(tiny_dir, read_only_dir, where):
    if where == "out":
        r = read_only_user("train", "--data-dir", tiny_dir, "--out", read_only_dir / "run",
                           "--epochs", 1, *QUIET)
    elif where == "default runs/":
        r = read_only_user("train", "--data-dir", tiny_dir, "--epochs", 1, *QUIET, cwd=read_only_dir)
    else:
        r = read_only_user("tune", "--data-dir", tiny_dir, "--out", read_only_dir / "search",
                           "--trials", 1, "--epochs", 1)
    assert r.returncode != 0
    line = one_error_line(r.stderr)
    assert line.startswith("signs: error:") and "ermission denied" in line


def test_resume_in_a_read_only_folder_is_refused(tiny_dir, tmp_path, read_only_dir):
    run = read_only_dir / "run"
    os.chmod(read_only_dir, 0o755)
    assert fresh_run(tiny_dir, run).returncode == 0
    for path in (run, run / "checkpoints"):
        os.chmod(path, 0o555)
    os.chmod(read_only_dir, 0o555)
    r = read_only_user("train", "--data-dir", tiny_dir, "--resume", run, "--epochs", 1, *QUIET)
    assert r.returncode == 2 and "cannot write the run folder" in one_error_line(r.stderr)
    os.chmod(read_only_dir, 0o755)
    for path in (run, run / "checkpoints"):
        os.chmod(path, 0o755)


def test_out_naming_a_file_is_refused(tiny_dir, tmp_path, run_cli):
    (tmp_path / "file").write_text("not a folder")
    code, _, err = run_cli("train", "--data-dir", tiny_dir, "--out", tmp_path / "file", "--epochs", 1,
                           *QUIET)
    assert code == 2 and "is a file" in one_error_line(err)


def test_full_disk_says_what_was_saved(tiny_dir, tmp_path):
    """A file size limit stands in for a full disk: writes past it fail with EFBIG."""
    def limit_file_size():
        resource.setrlimit(resource.RLIMIT_FSIZE, (512 * 1024, 512 * 1024))
    r = run_signs_subprocess("train", "--data-dir", tiny_dir, "--out", tmp_path / "run",
                             "--epochs", 2, *QUIET, preexec_fn=limit_file_size)
    assert r.returncode == 2
    line = one_error_line(r.stderr)
    assert "could not write the run folder" in line and "no checkpoint was saved" in line
    assert runs.read_metrics(tmp_path / "run") is None


# --- the command line itself --------------------------------------------------------------

def test_version_and_negative_counts(run_cli, capsys):
    with pytest.raises(SystemExit) as e:
        run_cli("--version")
    assert e.value.code == 0 and capsys.readouterr().out.startswith("signs ")
    with pytest.raises(SystemExit) as e:
        run_cli("train", "--checkpoint-every", "-1")
    assert e.value.code == 2 and "expected an int >= 0" in capsys.readouterr().err


@pytest.mark.parametrize("flags, expected", [
    (["--seed", "4294967296"], "seed must be an int in [0, 4294965795]"),
    (["--seed", "4294967290", "--epochs", "10"], "seed must be an int in [0, 4294967285]"),
    (["--tf-seed", "2147483648"], "tf_seed must be an int in [0, 2147483647]")])
def test_seeds_out_of_range_are_refused_up_front(run_cli, flags, expected, tmp_path):
    code, _, err = run_cli("train", "--out", tmp_path / "run", *flags)
    assert code == 2 and expected in one_error_line(err)
    assert not (tmp_path / "run").exists()


def test_ctrl_c_while_tensorflow_loads_is_one_line():
    proc = subprocess.Popen([sys.executable, "-m", "signs_model.cli", "train", "--epochs", "1"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(1.0)  # Python is up (its SIGINT handler installed); TensorFlow takes seconds to load
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    # 130 from the CLI's own handler, or the interrupt ending Python itself (a shell shows 130)
    assert proc.returncode in (130, -signal.SIGINT)
    assert "interrupted" in one_error_line(err)
