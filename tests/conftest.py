"""Shared fixtures: the SIGNS data (from $SIGNS_DATA_DIR or datasets/) and CLI runners."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

import signs_model  # noqa: F401  (configures TensorFlow before the tests import it)
from signs_model import cli, data

ROOT = Path(__file__).resolve().parent.parent
OWN_IMAGES = Path(os.environ.get("SIGNS_OWN_IMAGES", ROOT.parent / "shared" / "own_images"))


@pytest.fixture(scope="session")
def data_dir():
    folder = data.find_data_dir()
    if not (folder / data.FILES["train"]).exists():
        pytest.skip(f"no SIGNS data reachable (looked in {folder.resolve()}); "
                    f"set SIGNS_DATA_DIR to the folder with train_signs.h5 and test_signs.h5")
    return folder


@pytest.fixture(scope="session")
def signs(data_dir):
    return data.load_signs(data_dir)


@pytest.fixture(scope="session")
def own_images():
    paths = sorted(OWN_IMAGES.glob("*.jpg"))
    if not paths:
        pytest.skip(f"no own images in {OWN_IMAGES}")
    return paths


@pytest.fixture
def run_cli(capsys):
    """Run ``signs ARGS`` in-process; returns (exit code, stdout, stderr)."""
    def run(*args):
        code = cli.main([str(a) for a in args])
        out, err = capsys.readouterr()
        return code, out, err
    return run


def run_signs_subprocess(*args, env=None, timeout=600):
    """Run the real ``signs`` entry point in a fresh process (to check exit codes and stderr)."""
    return subprocess.run([sys.executable, "-m", "signs_model.cli", *map(str, args)],
                          capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})})
