"""Shared fixtures (the SIGNS data, the own photos, CLI runners), small class-balanced subsets
(``balanced``) and the test tiers.

The tiers live here, in one place: ``KINDS`` names the tests of each kind (a
whole module, or ``module::test``), and ``make quick`` runs every test of no
kind (``-m "not slow and not notebook and not subprocess and not browser"``).
"""
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import signs_model  # noqa: F401  (configures TensorFlow before the tests import it)
from signs_model import cli, data

ROOT = Path(__file__).resolve().parent.parent

collect_ignore_glob = ["port_corpus/*"]  # learners' code for `signs port`, not tests or doctests

KINDS = {
    # drives Debian's Chromium, or serves a page from a subprocess
    "browser": {"test_dashboard", "test_demo"},
    # runs a notebook kernel
    "notebook": {"test_notebooks_bn", "test_notebooks_tuning", "test_notebooks_tutorial", "test_port",
                 "test_port_corpus"},
    # starts `signs` (or a server, or a script) in other processes, kills processes
    "subprocess": {"test_faults", "test_search_faults", "test_study_shared", "test_ownership",
                   "test_port_cases", "test_bn_network::test_cli_train_batch_norm_writes_a_complete_run",
                   "test_batchnorm::test_matches_keras_values_gradients_and_moving_stats",
                   "test_search::test_cli_end_to_end_with_final_test",
                   "test_train::test_ctrl_c_saves_a_checkpoint_and_resume_finishes",
                   "test_evaluate::test_a_folder_that_cannot_be_listed_is_refused",
                   "test_bn_network::test_cli_refuses_bad_keep_prob"},
    # trains longer than a few epochs, or runs searches in worker processes
    "slow": {"test_search", "test_population", "test_train::test_full_course_training",
             "test_pruning::test_a_pruned_search_records_its_trials_and_a_rerun_keeps_them",
             "test_search_tensorboard::test_a_search_writes_the_experiment_and_one_session_per_trial",
             "test_experiments::test_cli_bn_lr_range", "test_experiments::test_cli_regularization",
             "test_experiments::test_bn_lr_range_writes_csv_markdown_and_figure",
             "test_photos::test_conv_network_trains_resumes_and_predicts",
             "test_photos::test_preset_photos_from_the_command_line",
             "test_photos::test_augmented_training_repeats_and_resumes"},
}


def pytest_collection_modifyitems(items):
    """Mark each test with its kinds from ``KINDS``."""
    for item in items:
        module = getattr(item, "module", None)
        module = module.__name__.rsplit(".", 1)[-1] if module else ""
        for kind, names in KINDS.items():
            if module in names or f"{module}::{getattr(item, 'originalname', '')}" in names:
                item.add_marker(kind)
OWN_IMAGES = Path(os.environ.get("SIGNS_OWN_IMAGES", ROOT / "images"))


def balanced_indices(labels, per_class):
    """The first ``per_class`` indices of each class in ``labels``, class by class."""
    labels = np.asarray(labels).ravel()
    return np.concatenate([np.flatnonzero(labels == c)[:per_class] for c in np.unique(labels)])


def balanced(signs, per_class):
    """A small class-balanced training subset (X, Y): the first ``per_class`` photos of each sign."""
    idx = balanced_indices(signs.y_train, per_class)
    return signs.X_train[:, idx], signs.Y_train[:, idx]


@pytest.fixture(scope="session")
def data_dir():
    """The folder ``load_dataset()`` reads by default. The data ships with the repo, so a
    missing file is a broken checkout (or a wrong SIGNS_DATA_DIR): fail, never skip."""
    folder = data.find_data_dir()
    missing = [name for name in data.FILES.values() if not (folder / name).is_file()]
    if missing:
        pytest.fail(f"SIGNS data missing: no {', '.join(missing)} in {folder.resolve()}; the repo "
                    f"ships them in datasets/ (restore them, or unset or fix SIGNS_DATA_DIR)",
                    pytrace=False)
    return folder


@pytest.fixture(scope="session")
def signs(data_dir):
    return data.load_signs(data_dir)


@pytest.fixture(scope="session")
def own_images():
    paths = sorted(OWN_IMAGES.glob("*.jpg"))
    if not paths:
        pytest.fail(f"no .jpg photos in {OWN_IMAGES}; the repo ships twelve in images/ "
                    f"(restore them, or unset or fix SIGNS_OWN_IMAGES)", pytrace=False)
    return paths


@pytest.fixture
def run_cli(capsys):
    """Run ``signs ARGS`` in-process; returns (exit code, stdout, stderr)."""
    def run(*args):
        code = cli.main([str(a) for a in args])
        out, err = capsys.readouterr()
        return code, out, err
    return run


def lfs_pointers(folder):
    """Write the SIGNS pair into ``folder`` as Git LFS pointers (what a clone without
    ``git lfs`` holds: small text files named .h5); returns the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, size in (("train_signs.h5", 2572022), ("test_signs.h5", 616958)):
        (folder / name).write_text("version https://git-lfs.github.com/spec/v1\n"
                                   f"oid sha256:{'0' * 64}\nsize {size}\n")
    return folder


def run_signs_subprocess(*args, env=None, timeout=600, **popen_args):
    """Run the real ``signs`` entry point in a fresh process (to check exit codes and stderr).

    ``popen_args`` go to subprocess.run (cwd, preexec_fn, ...).
    """
    return subprocess.run([sys.executable, "-m", "signs_model.cli", *map(str, args)],
                          capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})}, **popen_args)
