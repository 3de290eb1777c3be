"""Figures. They are drawn on matplotlib `Figure` objects (no GUI backend), saved
to a file when a path is given, and shown inline only inside a notebook, so
nothing ever blocks on ``plt.show()`` in a terminal.
"""
import os
import sys
from pathlib import Path

from matplotlib.figure import Figure


def in_notebook():
    return "ipykernel" in sys.modules


def finish(fig, path=None, show=None):
    """Save ``fig`` atomically to ``path`` (if given) and display it in a notebook (if running in one)."""
    if path is not None:
        path = Path(path)
        tmp = path.with_name(".tmp-" + path.name)
        fig.savefig(tmp, dpi=100, bbox_inches="tight", format=path.suffix.lstrip(".") or "png")
        os.replace(tmp, path)
    if show if show is not None else in_notebook():
        from IPython.display import display

        display(fig)
    return fig


def plot_costs(costs, learning_rate, per="per fives", path=None, show=None):
    """The course's cost curve: cost against iterations, titled with the learning rate."""
    fig = Figure(figsize=(6, 4))
    ax = fig.add_subplot()
    ax.plot(costs)
    ax.set_ylabel("cost")
    ax.set_xlabel(f"iterations ({per})")
    ax.set_title(f"Learning rate = {learning_rate}")
    return finish(fig, path, show)
