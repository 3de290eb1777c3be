"""Running a ported notebook or script headless, in its folder, and saying where it stopped."""
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ..errors import SignsError, check_int
from .contrib.layers import FLATTEN_ENV
from ..atomic import atomic_write_bytes
from .port import SUFFIXES, _read_notebook, first_line
from .port_check import expected_flatten_graph

PACKAGE_ROOT = Path(__file__).resolve().parent.parent  # the folder holding signs_model/


def run_env(folder, root=None):
    """The environment a copy in ``folder`` runs in: its own modules first on the import path
    (a kernel puts its working folder last), then ``root`` (the top of a ported course
    folder, for imports by package path), then this ``signs_model``; plots off screen."""
    paths = [str(Path(p).resolve()) for p in (folder, root) if p] + [str(PACKAGE_ROOT)]
    old = os.environ.get("PYTHONPATH")
    return {"PYTHONPATH": os.pathsep.join(paths + ([old] if old else [])),
            "MPLBACKEND": "Agg"}  # plt.show() returns instead of waiting for a window


def run_ported(path, timeout=600, root=None):
    """Run a ported notebook (its outputs saved into it) or script, headless, in its folder.

    Args:
        timeout: seconds each notebook cell may run (a script: the whole script, and
            everything it started: its process group is ended at the limit).
        root: a folder to put on the import path (the top of a ported course folder).
    Returns:
        dict: path, seconds, failure: None if everything ran, else one line saying
        which cell (or script line) failed and how; flatten_graph: "1.4" where a notebook's
        expected output is the later course version's (contrib flatten's TF 1.4 graph was
        built for it, see `signs_model.contrib.layers.flatten_graph`), else None.
    """
    check_int("timeout", timeout)
    path = Path(path)
    if path.suffix not in SUFFIXES or not path.is_file():
        raise SignsError(f"{path}: no such notebook (.ipynb) or Python file (.py) to run")
    graph = None
    if path.suffix == ".ipynb" and not os.environ.get(FLATTEN_ENV):
        graph = expected_flatten_graph(path.read_text(encoding="utf-8", errors="replace"))
    env = {**run_env(path.parent, root), **({FLATTEN_ENV: graph} if graph else {})}
    start = time.monotonic()
    if path.suffix == ".ipynb":
        import nbformat

        from .notebooks import execute

        nb = _read_notebook(path)
        try:
            failed = execute(nb, path.parent, timeout, env=env)
        finally:
            atomic_write_bytes(path, nbformat.writes(nb).encode("utf-8"))
        if failed:
            index, what = failed
            number = sum(c.cell_type == "code" for c in nb.cells[:index + 1])
            failed = f"{path}: code cell {number} ({first_line(nb.cells[index].source)}) {what}"
    else:
        failed = _run_script(path, timeout, env)
    return {"path": str(path), "seconds": time.monotonic() - start, "failure": failed or None,
            "flatten_graph": graph}


def _run_script(path, timeout, env):
    """Run ``python path`` in its folder (its prints pass through); None, or what failed."""
    # A session of its own: at the time limit the whole group goes, children included. Its
    # stderr goes to a file, so that a child holding it open does not keep us waiting.
    with tempfile.TemporaryFile() as err:
        process = subprocess.Popen([sys.executable, path.name], cwd=path.parent.resolve(),
                                   env={**os.environ, **env}, stderr=err,
                                   start_new_session=True)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return f"{path}: ran past the time limit of {timeout} s"
        finally:  # on Ctrl-C too: nothing it started outlives the command
            _end_group(process)
        err.seek(0)
        stderr = err.read().decode("utf-8", errors="replace")
    if process.returncode == 0:
        return None
    lines = [line for line in stderr.splitlines() if line.strip()]
    frames = [int(n) for f, n in re.findall(r'File "([^"]*)", line (\d+)', stderr)
              if Path(f).name == path.name]
    what = lines[-1].strip() if lines else f"exit status {process.returncode}"
    if frames:  # the top-level statement that failed, as a notebook names its cell
        code = path.read_text(encoding="utf-8", errors="replace").split("\n")[frames[0] - 1]
        return f"{path}: line {frames[0]} ({first_line(code)}) {what}"
    return f"{path}: {what}"


def _end_group(process):
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass  # the group is gone already
    process.wait()
