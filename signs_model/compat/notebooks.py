"""Running a notebook headless (nbclient) on a kernel of this very interpreter.

``signs port --run`` and the notebook tests both go through here, so a notebook
runs with the TensorFlow and the ``signs_model`` that the caller has.
"""
import os
import subprocess
import sys
from pathlib import Path

from jupyter_client.kernelspec import KernelSpec
from jupyter_client.manager import AsyncKernelManager

from ..errors import SignsError

KERNEL_NAME = "python3"


class ThisInterpreterKernelManager(AsyncKernelManager):
    """A "python3" kernel started as ``sys.executable -m ipykernel_launcher``.

    The "python3" kernelspec found on disk is not used: a user-wide or system
    kernel.json (which Jupyter may prefer to the venv's) can name another
    interpreter, one without TensorFlow or this package. Pinning the command
    to the running interpreter makes the kernel use this venv, with no
    kernelspec to install.
    """

    @property
    def kernel_spec(self):
        if self._kernel_spec is None:
            self._kernel_spec = KernelSpec(
                argv=[sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                display_name=f"Python 3 ({sys.executable})", language="python", name=KERNEL_NAME)
        return self._kernel_spec


def execute(nb, folder, timeout, env=None):
    """Run the code cells of ``nb`` in order, in a fresh kernel working in ``folder``.

    Stops at the first cell that raises or runs past ``timeout`` seconds; ``nb``
    keeps the outputs of the cells that ran (the failing one's error included).

    Returns:
        None if every cell ran, else (index of the failing cell in nb.cells, what
        went wrong in one line).
    """
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    started = []
    client = NotebookClient(nb, timeout=timeout, kernel_name=KERNEL_NAME,
                            kernel_manager_class=ThisInterpreterKernelManager,
                            resources={"metadata": {"path": str(Path(folder).resolve())}},
                            on_cell_start=lambda cell, cell_index: started.append(cell_index))
    try:
        # The kernel process's own stderr (ipykernel's start-up notices) is not the
        # notebook's: what the cells print comes back in their outputs.
        client.execute(env={**os.environ, **{k: str(v) for k, v in (env or {}).items()}},
                       stderr=subprocess.DEVNULL)
        return None
    except CellExecutionError as e:
        what = f"{e.ename}: {(e.evalue.splitlines() or [''])[0]}"
    except CellTimeoutError:
        what = f"ran past the time limit of {timeout:g} s per cell"
    except DeadKernelError:
        what = "the kernel died (out of memory?)"
    except Exception as e:  # before the first cell: no kernel
        if started:
            raise
        raise SignsError(f"could not start a Python kernel ({type(e).__name__}: {e}); "
                         f"expected ipykernel installed beside {sys.executable}") from None
    return started[-1], what
