"""Shared fixtures: the SIGNS data (datasets/ or $SIGNS_DATA_DIR), the own photos, CLI runners."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

import signs_model  # noqa: F401  (configures TensorFlow before the tests import it)
from signs_model import cli, data

ROOT = Path(__file__).resolve().parent.parent
OWN_IMAGES = Path(os.environ.get("SIGNS_OWN_IMAGES", ROOT / "images"))


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


def run_signs_subprocess(*args, env=None, timeout=600, **popen_args):
    """Run the real ``signs`` entry point in a fresh process (to check exit codes and stderr).

    ``popen_args`` go to subprocess.run (cwd, preexec_fn, ...).
    """
    return subprocess.run([sys.executable, "-m", "signs_model.cli", *map(str, args)],
                          capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})}, **popen_args)
