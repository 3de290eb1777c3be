"""Experiments on the lecture's claims: batch norm widens the usable learning-rate range,
and what L2, dropout and batch norm each do to test accuracy.

* ``bn_lr_range``: the same network with and without batch norm, trained at
  log-spaced learning rates with the same epochs and seeds, judged on a
  stratified dev split of the training set (``data.dev_split``, near-duplicate
  photos kept on one side; never on the test set). Per
  variant it reports the best dev accuracy and how many decades of learning
  rate stay within 90% of it (``good_lr_range``).
* ``regularization``: the course's model plain, with L2, with dropout and with
  batch norm, each trained on the full training set and scored on the test set.

Each writes a CSV, a Markdown table and (for the learning rates) a figure into
``out_dir``. A run whose cost becomes NaN or infinite (``errors.Diverged``) is a
result, not a crash: its accuracies are NaN, its status is ``diverged`` and its
reason says when the cost broke and which values to lower (any other error:
``failed``; the statuses of ``results``). The CSV is rewritten after every run,
so an interrupted experiment keeps its rows. A learning rate or l2_lambda
beyond float32's range is refused before any training.

Example:
    >>> good_lr_range([1e-4, 1e-3, 1e-2, 1e-1], [0.5, 0.95, 1.0, 0.2])
    GoodRange(best=1.0, best_lr=0.01, low=0.001, high=0.01, decades=1.0, at_edge=False)
"""
import contextlib
import math
from collections import namedtuple
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from . import train
from .config import HYPERPARAMETERS, TrainConfig
from .errors import SignsError, check_int, is_number
from .atomic import atomic_write_bytes, owned
from .plots import plot_lr_range
from .search.results import ResultsTable, attempt, status_text

LR_RANGE_FIELDS = ("learning_rate", "batch_norm", "dev_accuracy", "train_accuracy", "final_cost",
                   "status", "reason")
REG_FIELDS = ("name", "l2_lambda", "keep_prob", "batch_norm", "train_accuracy", "test_accuracy",
              "final_cost", "seconds", "status", "reason")
_DEFAULT = {name: h.default for name, h in HYPERPARAMETERS.items()}  # the course's settings
GOOD_FRACTION = 0.9  # "good" learning rates reach 90% of the variant's best dev accuracy

GoodRange = namedtuple("GoodRange", "best best_lr low high decades at_edge")


def regularizers(l2_lambdas=(0.1, 1.0), keep_probs=(0.9, 0.7)):
    """The configurations ``regularization`` compares: name -> TrainConfig changes."""
    configs = {"plain": {}}
    configs.update({f"L2 lambda={lam:g}": {"l2_lambda": lam} for lam in l2_lambdas})
    configs.update({f"dropout keep_prob={p:g}": {"keep_prob": p} for p in keep_probs})
    configs["batch norm"] = {"batch_norm": True}
    return configs


def log_spaced(lr_min, lr_max, points):
    """``points`` learning rates evenly spaced in log10 from ``lr_min`` to ``lr_max``, both included."""
    for name, v in (("lr_min", lr_min), ("lr_max", lr_max)):
        if not is_number(v) or v <= 0:
            raise SignsError(f"{name} must be a number > 0, got {v!r}", argument=name)
    if not lr_min < lr_max:
        raise SignsError(f"lr_min must be smaller than lr_max, got {lr_min!r} and {lr_max!r}",
                         argument="lr_min")
    check_int("points", points, 2)
    # 12 significant digits: 1e-05, not logspace's 9.999999999999999e-06
    return [float(f"{v:.12g}") for v in np.logspace(math.log10(lr_min), math.log10(lr_max), points)]


def good_lr_range(learning_rates, accuracies, fraction=GOOD_FRACTION):
    """The contiguous learning-rate range around the best one where accuracy >= fraction * best.

    The width is measured on the grid: from the smallest to the largest
    qualifying grid point next to the best, so it is a lower bound (the true
    range may reach up to one grid step further on each side). NaN accuracies
    (diverged runs) never qualify and end the range.

    Args:
        learning_rates: increasing positive learning rates.
        accuracies: one accuracy per learning rate, NaN for a failed run.
        fraction: share of the best accuracy that still counts as good.
    Returns:
        GoodRange(best, best_lr, low, high, decades = log10(high / low), at_edge =
        the range touches the first or last grid point); all NaN if every run failed.
    """
    lrs = _check_grid(learning_rates)
    acc = np.asarray(accuracies, dtype=float)
    if acc.shape != lrs.shape:
        raise SignsError(f"accuracies must hold one value per learning rate ({lrs.size}), "
                         f"got shape {acc.shape}", argument="accuracies")
    if np.all(np.isnan(acc)):
        return GoodRange(math.nan, math.nan, math.nan, math.nan, math.nan, False)
    i = int(np.nanargmax(acc))
    best = float(acc[i])
    good = ~np.isnan(acc) & (acc >= fraction * best)  # NaN >= x is False, but be explicit
    lo = hi = i
    while lo > 0 and good[lo - 1]:
        lo -= 1
    while hi < acc.size - 1 and good[hi + 1]:
        hi += 1
    return GoodRange(best, float(lrs[i]), float(lrs[lo]), float(lrs[hi]),
                     float(math.log10(lrs[hi] / lrs[lo])), lo == 0 or hi == acc.size - 1)


def bn_lr_range(X_train, Y_train, X_dev, Y_dev, learning_rates, epochs, seed=_DEFAULT["seed"],
                hidden_units=(25, 12), optimizer="adam", out_dir=None, progress=False,
                report=None):
    """Train the network with and without batch norm at each learning rate; judge on dev.

    Every run uses the same initial weights (Xavier, seed 1), the same
    minibatch seeds (``seed``) and ``epochs`` epochs; only the learning rate
    and batch norm change.

    Args:
        X_train (n_x, m), Y_train (n_y, m): what the runs train on.
        X_dev, Y_dev: what judges them (e.g. ``data.dev_split`` of the training set).
        learning_rates: increasing positive floats (see ``log_spaced``).
        epochs: epochs per run.
        seed: minibatch shuffling seed of every run.
        hidden_units, optimizer: the network and optimizer of every run.
        out_dir: folder for lr_range.csv, lr_range.md and lr_range.png (None: write nothing).
        progress: a progress bar over the runs.
        report: called with each finished row (a dict), e.g. to print it.
    Returns:
        dict with "rows" (lr_range.csv's rows as dicts), "summary" ({False: GoodRange,
        True: GoodRange} for without/with batch norm) and "files" (paths written).
    """
    lrs = _check_grid(learning_rates).tolist()
    base = TrainConfig(num_epochs=epochs, seed=seed, hidden_units=hidden_units, optimizer=optimizer)
    base.replace(learning_rate=lrs[-1])  # the largest learning rate is a valid one
    eval_sets = {"train": (X_train, Y_train), "dev": (X_dev, Y_dev)}
    train.check_inputs(base, X_train, Y_train, eval_sets)
    with _out(out_dir) as out:  # owned until every file is written
        table = ResultsTable(None if out is None else out / "lr_range.csv",
                             LR_RANGE_FIELDS, report=report)
        jobs = [(bn, lr) for bn in (False, True) for lr in lrs]
        for bn, lr in tqdm(jobs, desc="bn-lr-range", unit="run", disable=not progress,
                           leave=False):
            cfg = base.replace(learning_rate=lr, batch_norm=bn)
            row = {"learning_rate": lr, "batch_norm": bn,
                   **_run(cfg, X_train, Y_train, eval_sets)}
            table.add({k: row[k] for k in (*LR_RANGE_FIELDS, "seconds")})
        rows = table.rows()
        summary = {bn: good_lr_range(lrs, [r["dev_accuracy"] for r in rows
                                           if r["batch_norm"] == bn])
                   for bn in (False, True)}
        files = []
        if out is not None:
            header = (f"{len(lrs)} learning rates from {lrs[0]:.3g} to {lrs[-1]:.3g}, {epochs} "
                      f"epochs each, optimizer {optimizer}, hidden units {list(hidden_units)}, "
                      f"minibatch seed {seed}; trained on {X_train.shape[1]} examples, judged on "
                      f"{X_dev.shape[1]} dev examples (chance level 1/{Y_train.shape[0]} = "
                      f"{1 / Y_train.shape[0]:.3f}: a width only means something when the best "
                      f"is well above it).")
            atomic_write_bytes(out / "lr_range.md",
                               lr_range_markdown(rows, summary, header).encode())
            plot_lr_range(rows, summary, out / "lr_range.png", chance=1 / Y_train.shape[0],
                          fraction=GOOD_FRACTION, label=variant)
            files = [out / "lr_range.csv", out / "lr_range.md", out / "lr_range.png"]
        return {"rows": rows, "summary": summary, "files": files}


def regularization(X_train, Y_train, X_test, Y_test, configs=None, epochs=_DEFAULT["num_epochs"],
                   base=None, out_dir=None, progress=False, report=None):
    """Train the same network with each regularizer; compare train and test accuracy.

    Args:
        X_train, Y_train: the training set (n_x, m), (n_y, m).
        X_test, Y_test: the set that scores each run.
        configs: name -> TrainConfig changes (default ``regularizers()``: plain,
            L2 at two lambdas, dropout at two keep_probs, batch norm).
        epochs: epochs per run (the course trains 1500).
        base: TrainConfig shared by every run (default: the course's).
        out_dir: folder for regularization.csv and regularization.md (None: write nothing).
        progress, report: as in ``bn_lr_range``.
    Returns:
        dict with "rows" (one dict per config, REG_FIELDS) and "files".
    """
    configs = regularizers() if configs is None else dict(configs)
    if not configs:
        raise SignsError("configs must name at least one configuration, got none", argument="configs")
    base = (base or TrainConfig()).replace(num_epochs=epochs)
    cfgs = {name: base.replace(**changes) for name, changes in configs.items()}  # check all first
    eval_sets = {"train": (X_train, Y_train), "test": (X_test, Y_test)}
    for cfg in cfgs.values():
        train.check_inputs(cfg, X_train, Y_train, eval_sets)
    with _out(out_dir) as out:  # owned until every file is written
        table = ResultsTable(None if out is None else out / "regularization.csv",
                             REG_FIELDS, report=report)
        for name, cfg in tqdm(cfgs.items(), desc="regularization", unit="run", disable=not progress,
                              leave=False):
            table.add({"name": name, "l2_lambda": cfg.l2_lambda, "keep_prob": cfg.keep_prob,
                       "batch_norm": cfg.batch_norm, **_run(cfg, X_train, Y_train, eval_sets)})
        rows = table.rows()
        files = []
        if out is not None:
            header = (f"{epochs} epochs each, learning rate {base.learning_rate:g}, optimizer "
                      f"{base.optimizer}, hidden units {list(base.hidden_units)}, minibatch size "
                      f"{base.minibatch_size}, seeds {base.seed}/{base.tf_seed}; trained on "
                      f"{X_train.shape[1]} examples, tested on {X_test.shape[1]}.")
            atomic_write_bytes(out / "regularization.md",
                               regularization_markdown(rows, header).encode())
            files = [out / "regularization.csv", out / "regularization.md"]
        return {"rows": rows, "files": files}


@contextlib.contextmanager
def _out(out_dir):
    """The output folder as a Path, created and ours for the block (``files.owned``: a second
    experiment writing into it meanwhile is refused); None stays None (write nothing)."""
    if out_dir is None:
        yield None
        return
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    with owned(out, "experiment folder"):
        yield out


def _run(cfg, X_train, Y_train, eval_sets):
    """One in-memory run, as table columns: each eval set's accuracy and the final cost (NaN
    unless the run is ok), seconds, status ("ok", "diverged" or "failed") and reason."""
    result = attempt(lambda: train.train(cfg, X_train, Y_train, eval_sets, progress=False,
                                         eval_every=0)["metrics"])
    return result.row([f"{name}_accuracy" for name in eval_sets] + ["final_cost"], missing=math.nan)


def _check_grid(learning_rates):
    """Learning rates as a 1-D float array, refused unless positive, finite and increasing."""
    try:
        lrs = np.asarray(learning_rates, dtype=float)
    except (TypeError, ValueError):
        lrs = None
    if lrs is None or lrs.ndim != 1 or lrs.size == 0 or not np.all(np.isfinite(lrs)) \
            or not np.all(lrs > 0) or not np.all(np.diff(lrs) > 0):
        raise SignsError(f"learning_rates must be one or more positive numbers in increasing "
                         f"order, got {learning_rates!r}", argument="learning_rates")
    return lrs


def fmt(v, spec=".4f"):
    """A number for a table or a report line; "NaN" for a run that has none (None or NaN)."""
    return "NaN" if v is None or (isinstance(v, float) and math.isnan(v)) else format(v, spec)


def variant(bn):
    """The name of a bn_lr_range variant: "with batch norm" or "without batch norm"."""
    return "with batch norm" if bn else "without batch norm"


def lr_range_markdown(rows, summary, header=""):
    """lr_range.md: the runs as a table, then per variant the best dev accuracy and the range width."""
    lines = ["# Learning-rate range with and without batch norm", ""]
    if header:
        lines += [header, ""]
    lines += ["| learning rate | batch norm | dev accuracy | train accuracy | final cost | status |",
              "|---:|:---:|---:|---:|---:|:---|"]
    for r in rows:
        lines.append(f"| {r['learning_rate']:.3g} | {'yes' if r['batch_norm'] else 'no'} | "
                     f"{fmt(r['dev_accuracy'])} | {fmt(r['train_accuracy'])} | "
                     f"{fmt(r['final_cost'])} | {status_text(r)} |")
    lines += ["", f"Good learning rates: dev accuracy >= {GOOD_FRACTION:.0%} of the variant's best. "
              "The good range is the contiguous run of good grid points around the best, its "
              "width log10(high / low) measured on the grid (a lower bound; 'at the grid edge': "
              "it may extend beyond the rates tried). 'Good rates, anywhere' counts every good "
              "grid point, contiguous or not.", "",
              "| variant | best dev accuracy | at learning rate | good range | width (decades) "
              "| good rates, anywhere | worst dev accuracy |",
              "|:---|---:|---:|:---|---:|---:|---:|"]
    for bn in (False, True):
        g = summary[bn]
        accs = np.array([r["dev_accuracy"] for r in rows if r["batch_norm"] == bn], dtype=float)
        if math.isnan(g.best):
            lines.append(f"| {variant(bn)} | NaN | - | every run diverged | NaN | 0 of {accs.size} "
                         f"| NaN |")
            continue
        edge = " (at the grid edge)" if g.at_edge else ""
        n_good = int(np.sum(accs >= GOOD_FRACTION * g.best))  # NaN compares False
        worst = "NaN (diverged)" if np.isnan(accs).any() else f"{accs.min():.4f}"
        lines.append(f"| {variant(bn)} | {g.best:.4f} | {g.best_lr:.3g} | "
                     f"{g.low:.3g} .. {g.high:.3g}{edge} | {g.decades:.2f} | "
                     f"{n_good} of {accs.size} | {worst} |")
    return "\n".join(lines) + "\n"


def regularization_markdown(rows, header=""):
    """regularization.md: one row per configuration, in the order they were given."""
    lines = ["# Regularization on SIGNS: plain, L2, dropout, batch norm", ""]
    if header:
        lines += [header, ""]
    lines += ["| configuration | l2_lambda | keep_prob | batch norm | train accuracy | test accuracy "
              "| final cost | seconds | status |", "|:---|---:|---:|:---:|---:|---:|---:|---:|:---|"]
    for r in rows:
        lines.append(f"| {r['name']} | {r['l2_lambda']:g} | {r['keep_prob']:g} | "
                     f"{'yes' if r['batch_norm'] else 'no'} | {fmt(r['train_accuracy'])} | "
                     f"{fmt(r['test_accuracy'])} | {fmt(r['final_cost'])} | "
                     f"{fmt(r['seconds'], '.1f')} | {status_text(r)} |")
    return "\n".join(lines) + "\n"

