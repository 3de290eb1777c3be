"""Run a notebook headless for the tests, on the ipykernel of the interpreter running pytest.

Shared by the notebook tests (not a test file itself)::

    nb = run_notebook("notebooks/tensorflow_tutorial.ipynb", env={"SIGNS_NB_EPOCHS": "20"})
    assert "Train Accuracy" in cell_outputs_text(nb)
"""
import os
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from signs_model.compat.notebooks import KERNEL_NAME, ThisInterpreterKernelManager


def run_notebook(path, env=None, timeout=600):
    """Execute every cell of the notebook at ``path`` in a fresh kernel and return the executed notebook.

    The kernel runs in the notebook's folder (as Jupyter would) with
    ``os.environ`` updated by ``env``. The file on disk is left untouched.

    Args:
        path: the .ipynb file.
        env: dict of environment variables for the kernel (values made str).
        timeout: seconds any one cell may run (nbclient's per-cell limit).
    Returns:
        the executed `nbformat.NotebookNode`, outputs included.
    Raises:
        nbclient.exceptions.CellExecutionError: a cell raised (the message holds its traceback).
    """
    path = Path(path).resolve()
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=timeout, kernel_name=KERNEL_NAME,
                            kernel_manager_class=ThisInterpreterKernelManager,
                            resources={"metadata": {"path": str(path.parent)}})
    kernel_env = {**os.environ, **{k: str(v) for k, v in (env or {}).items()}}
    client.execute(env=kernel_env)
    return nb


def cell_outputs_text(nb):
    """All printed text of an executed notebook joined in cell order: streams and text/plain results."""
    parts = []
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            if output.output_type == "stream":
                parts.append(output.text)
            elif output.output_type in ("execute_result", "display_data"):
                parts.append(output.get("data", {}).get("text/plain", ""))
            elif output.output_type == "error":
                parts.append(f"{output.ename}: {output.evalue}")
    return "\n".join(parts)
