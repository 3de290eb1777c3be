"""Figures. They are drawn on matplotlib `Figure` objects (no GUI backend), saved
to a file when a path is given, and shown inline only inside a notebook, so
nothing ever blocks on ``plt.show()`` in a terminal.
"""
import math
import os
import sys
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from matplotlib.ticker import NullFormatter

from .atomic import temp_path
from .images import load_image


def in_notebook():
    return "ipykernel" in sys.modules


def finish(fig, path=None, show=None):
    """Save ``fig`` atomically to ``path`` (if given) and display it in a notebook (if running in one)."""
    if path is not None:
        path = Path(path)
        tmp = temp_path(path)  # unique: two commands drawing the same figure never collide
        try:
            fig.savefig(tmp, dpi=100, bbox_inches="tight", format=path.suffix.lstrip(".") or "png")
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
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


def plot_lr_range(rows, summary, path=None, show=None, chance=None, fraction=0.9, label=str):
    """Dev accuracy against learning rate (log x), one curve per batch_norm value (rows of
    ``experiments.bn_lr_range``); x marks runs that diverged or failed, shading the good range.

    Args:
        summary: batch_norm -> GoodRange of that variant.
        chance: the accuracy of guessing (1 / classes), drawn as a dotted line.
        fraction: what share of the best accuracy counts as good (for the title).
        label: batch_norm -> the variant's name in the legend.
    """
    fig = Figure(figsize=(6.5, 4.2))
    ax = fig.add_subplot()
    if chance is not None:
        ax.axhline(chance, color="0.5", linestyle=":", label=f"chance ({chance:.3f})")
    for k, bn in enumerate((False, True)):
        mine = [r for r in rows if r["batch_norm"] == bn]
        color = f"C{k}"
        ax.plot([r["learning_rate"] for r in mine], [r["dev_accuracy"] for r in mine], "o-",
                color=color, label=label(bn))
        failed = [r for r in mine if r["status"] != "ok"]
        if failed:
            ax.plot([r["learning_rate"] for r in failed], [0.0] * len(failed), "x", color=color,
                    markersize=9, label=f"{label(bn)}: "
                    + " or ".join(sorted({r["status"] for r in failed})))
        g = summary[bn]
        if not math.isnan(g.best):
            ax.axvspan(g.low, g.high, color=color, alpha=0.12)
    ax.set_xscale("log")
    ax.set_ylim(-0.03, 1.03)
    ax.set_xlabel("learning rate")
    ax.set_ylabel("dev accuracy")
    ax.set_title(f"Learning-rate range (shaded: >= {fraction:.0%} of best dev accuracy)")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize="small")
    return finish(fig, path, show)


def plot_confusion(confusion, title="confusion matrix", path=None, show=None):
    """The confusion matrix as a grid of counts: rows = true digit, columns = predicted digit.

    Args:
        confusion: (C, C) counts, e.g. ``evaluate_photos(...)["confusion"]``.
    """
    confusion = np.asarray(confusion)
    C = len(confusion)
    fig = Figure(figsize=(1.5 + 0.55 * C, 1.2 + 0.55 * C), layout="constrained")
    ax = fig.add_subplot()
    ax.imshow(confusion, cmap="Blues", vmin=0)
    for (i, j), count in np.ndenumerate(confusion):
        ax.text(j, i, str(count), ha="center", va="center",
                color="white" if count > confusion.max() / 2 else "black")
    ax.set_xticks(range(C))
    ax.set_yticks(range(C))
    ax.set_xlabel("predicted digit")
    ax.set_ylabel("true digit")
    ax.set_title(title)
    return finish(fig, path, show)


def plot_contact_sheet(wrong, path=None, show=None, columns=8, limit=96):
    """The photos a model got wrong, as the network saw them (64x64), each titled with its
    true and predicted digit and the predicted digit's probability.

    Args:
        wrong: dicts {image, true, predicted, confidence}, e.g. ``evaluate_photos(...)["wrong"]``.
        limit: draw at most this many (the title says how many there are).
    """
    shown = wrong[:limit]
    cols = max(1, min(columns, len(shown)))
    rows = max(1, math.ceil(len(shown) / cols))
    fig = Figure(figsize=(max(3, 1.4 * cols), 0.5 + 1.7 * rows), layout="constrained")
    shown_of = f", the first {limit} shown" if len(wrong) > limit else ""
    fig.suptitle(f"{len(wrong)} wrong{shown_of}" if wrong else "no wrong predictions")
    for k, w in enumerate(shown):
        ax = fig.add_subplot(rows, cols, k + 1)
        ax.imshow(load_image(w["image"]))
        ax.set_title(f"true {w['true']}, predicted {w['predicted']}\n"
                     f"p={w['confidence']:.2f} {Path(w['image']).name[:14]}", fontsize=8)
        ax.set_axis_off()
    return finish(fig, path, show)


# --- a search's trials (rows of search.tune), each axis on the scale it was sampled on ---

def _axis(param, values):
    """x positions, axis scale and label to plot ``values`` of one search axis on its scale."""
    if param.scale == "choice":
        return [param.values.index(v) for v in values], "linear", param.name
    if param.scale == "one_minus_log":  # 1 - beta on a log axis, as it was sampled
        return [1 - v for v in values], "log", f"1 - {param.name}"
    return values, "log" if param.scale == "log" else "linear", param.name


def _set_axis(ax, param, which):
    _, scale, label = _axis(param, [])
    getattr(ax, f"set_{which}scale")(scale)
    getattr(ax, f"set_{which}label")(label)
    getattr(ax, f"{which}axis").set_minor_formatter(NullFormatter())  # no crowded 2x10^-2 labels
    if param.scale == "choice":
        getattr(ax, f"set_{which}ticks")(range(len(param.values)), [str(v) for v in param.values])


def plot_dev_accuracy(rows, space, path=None, show=False):
    """Dev accuracy against each hyperparameter, one panel per axis of ``space``, coloured by round."""
    ok = [r for r in rows if r["status"] == "ok"]
    cols = min(3, len(space))
    fig = Figure(figsize=(4 * cols, 3.2 * math.ceil(len(space) / cols)), layout="constrained")
    for k, param in enumerate(space.values()):
        ax = fig.add_subplot(math.ceil(len(space) / cols), cols, k + 1)
        for rnd in sorted({r["round"] for r in ok}):
            mine = [r for r in ok if r["round"] == rnd]
            ax.scatter(_axis(param, [r[param.name] for r in mine])[0],
                       [r["dev_accuracy"] for r in mine], color=f"C{rnd}", label=f"round {rnd}")
        _set_axis(ax, param, "x")
        ax.set_ylabel("dev accuracy")
        if k == 0 and ok:
            ax.legend(fontsize="small")
    return finish(fig, path, show)


def plot_rounds(rows, spaces, path=None, show=False):
    """The points each round sampled on the two main axes (numeric ones first), each zoomed
    round's box drawn around them; x marks a trial that did not finish (pruned, diverged, failed).

    Args:
        spaces: the SearchSpace of each round (round 0's first).
    """
    main = sorted(spaces[0].values(), key=lambda p: p.scale == "choice")[:2]
    fig = Figure(figsize=(5.5, 4.5), layout="constrained")
    ax = fig.add_subplot()
    for rnd, space in enumerate(spaces):
        mine = [r for r in rows if r["round"] == rnd]
        for ok, marker in ((True, "o"), (False, "x")):
            pts = [r for r in mine if (r["status"] == "ok") == ok]
            ys = (_axis(main[1], [r[main[1].name] for r in pts])[0] if len(main) > 1
                  else [r["dev_accuracy"] or 0 for r in pts])
            ax.scatter(_axis(main[0], [r[main[0].name] for r in pts])[0], ys, marker=marker,
                       color=f"C{rnd}", label=f"round {rnd}" if ok else None)
        if rnd > 0 and len(main) > 1 and all(p.scale != "choice" for p in main):
            (x0, x1), (y0, y1) = (_axis(space[p.name], [space[p.name].low, space[p.name].high])[0]
                                  for p in main)
            ax.add_patch(Rectangle((x0, y0), x1 - x0, y1 - y0, fill=False, color=f"C{rnd}", ls="--"))
    _set_axis(ax, main[0], "x")
    if len(main) > 1:
        _set_axis(ax, main[1], "y")
    else:
        ax.set_ylabel("dev accuracy")
    ax.set_title("sampled configurations by round (box: zoomed space)")
    ax.legend(fontsize="small")
    return finish(fig, path, show)
