"""Trials and their results: one record per run, one status vocabulary, one table on disk.

A search and the experiments both train many runs and keep a table of them.
Each run ends in a ``Result`` whose status is one of ``STATUSES``:

* ``ok``: it trained; ``metrics`` holds its accuracies and final cost.
* ``pruned``: it was stopped early on purpose (``errors.Stopped``, a search's
  pruning); ``reason`` says after how many epochs and why, ``metrics`` holds
  what was measured then.
* ``diverged``: its cost became NaN or infinite (``errors.Diverged``); ``reason``
  says at which epoch and which values to lower.
* ``failed``: any other error (a config the data cannot take, a worker process
  that died); ``reason`` is the error's first line.

A ``ResultsTable`` rewrites its whole CSV (and, if asked, a Markdown view)
after every run, each file atomically, so a search or an experiment that is
cut short keeps every row it finished.

Example:
    >>> table = ResultsTable(None, ["name", "test_accuracy", "status", "reason"])
    >>> row = table.add({"name": "plain", **Result("ok", {"test_accuracy": 0.9}).row(["test_accuracy"])})
    >>> row["status"], row["test_accuracy"], status_text(row)
    ('ok', 0.9, 'ok')
    >>> bad = Result("diverged", reason="cost became nan at epoch 3")
    >>> status_text(table.add({"name": "L2 lambda=1e+30", **bad.row(["test_accuracy"])}))
    'diverged: cost became nan at epoch 3'
    >>> [r["name"] for r in table.rows()]
    ['plain', 'L2 lambda=1e+30']
"""
import time
from dataclasses import dataclass, field
from pathlib import Path

from .. import errors
from ..config import TrainConfig
from ..atomic import atomic_write_bytes, write_csv

STATUSES = ("ok", "pruned", "diverged", "failed")


@dataclass
class Trial:
    """One planned run of a search.

    Args:
        round, index: its place in the search (round r, trial k of that round).
        params: the values sampled for it, by search axis (``hidden_units_1``, ...).
        config: the TrainConfig it trains with (None if ``params`` made no valid one).
        run_dir: its run folder (a str: it travels to worker processes).
        notes: stored in its params.json (the dev split it is judged on).
        on_epoch: the hook ``train.train`` calls after each epoch (``pruning.Reporter``), or None.
        resume: continue the run in ``run_dir`` from its last checkpoint (a retried trial).
        trial_id: its trial's id in the search's study (None outside a search).
    """
    round: int
    index: int
    params: dict
    config: TrainConfig = None
    run_dir: str = None
    notes: dict = field(default_factory=dict)
    on_epoch: object = None
    resume: bool = False
    trial_id: int = None


@dataclass
class Result:
    """How one run ended: a status from STATUSES, its metrics (empty unless ok), why not ok,
    and the seconds it took (an ok run's own count, metrics["seconds"], so a finished run
    read back from its folder gives the same row); ``lost``: the process that trained it
    died (a search trains it again)."""
    status: str
    metrics: dict = field(default_factory=dict)
    reason: str = ""
    seconds: float = None
    lost: bool = False

    def row(self, metric_names, missing=None):
        """The table columns of this result: each metric (``missing`` where the run has
        none), then seconds, status and reason."""
        return {**{n: self.metrics.get(n, missing) for n in metric_names},
                "seconds": self.seconds, "status": self.status, "reason": self.reason}


def attempt(run):
    """Call ``run()`` (one training, returning its metrics dict) and say how it ended.

    A NaN cost or a crash is that run's result, not the end of the search or
    experiment it belongs to; only KeyboardInterrupt (not an Exception) gets through.
    Returns:
        Result: ok with the metrics, pruned (errors.Stopped), diverged (errors.Diverged) or
        failed (any other error).
    """
    t0 = time.perf_counter()
    try:
        metrics = run()
    except Exception as e:
        return ended_by(e, round(time.perf_counter() - t0, 3))
    return Result("ok", metrics, seconds=metrics.get("seconds", round(time.perf_counter() - t0, 3)))


def ended_by(error, seconds):
    """The Result of a run that ended with ``error`` after ``seconds``: pruned
    (errors.Stopped, with its own count), diverged (errors.Diverged) or failed."""
    if isinstance(error, errors.Stopped):
        return Result("pruned", error.metrics, str(error), error.metrics.get("seconds"))
    if isinstance(error, errors.Diverged):
        return Result("diverged", reason=str(error), seconds=seconds)
    return Result("failed", reason=f"{type(error).__name__}: {error}".splitlines()[0], seconds=seconds)


def status_text(row):
    """A row's status for a table cell: "ok", or "<status>: <reason>" ("pruned: stopped after ...")."""
    reason = (row.get("reason") or "").replace("|", "/")
    return f"{row['status']}: {reason}" if reason else row["status"]


class ResultsTable:
    """Rows of finished runs, rewritten whole to a CSV after each run.

    Args:
        path: the CSV file (None: keep the rows in memory only).
        columns: the CSV's header; every row holds these keys (and may hold more).
        markdown: (path, render) to also rewrite ``render(rows)`` to a Markdown file.
        report: called with each added row, e.g. to print progress.
    """

    def __init__(self, path, columns, markdown=None, report=None):
        self.path = Path(path) if path is not None else None
        self.columns, self.markdown, self.report = list(columns), markdown, report
        self._rows = {}

    def rows(self):
        """The rows so far, ordered by key (the order they were added, unless keys were given)."""
        return [self._rows[k] for k in sorted(self._rows)]

    def reset(self, rows, key):
        """Replace every row by ``rows`` (keyed by ``key(row)``) and rewrite the files once."""
        self._rows = {key(row): row for row in rows}
        self._write()

    def add(self, row, key=None):
        """Add (or, with the key of an earlier row, replace) a row and rewrite the files."""
        self._rows[len(self._rows) if key is None else key] = row
        self._write()
        if self.report:
            self.report(row)
        return row

    def _write(self):
        if self.path is not None:
            write_csv(self.path, self.columns, ([r[c] for c in self.columns] for r in self.rows()))
            if self.markdown is not None:
                md_path, render = self.markdown
                atomic_write_bytes(md_path, render(self.rows()).encode())


def leaderboard(rows, names):
    """A search's trials as a Markdown table, best dev accuracy first, the ones not ok last.

    Args:
        rows: result rows with the search axes ``names``, dev_accuracy,
            train_accuracy, final_cost, seconds, status, reason and run_dir.
    """
    def num(v, spec):
        return "" if v is None else format(v, spec)

    def val(v):
        return format(v, ".4g") if isinstance(v, float) else str(v)

    ranked = sorted(rows, key=lambda r: (r["status"] != "ok", -(r["dev_accuracy"] or 0)))
    lines = ["| rank | trial | " + " | ".join(names) + " | dev acc | train acc | final cost | s | status |",
             "|" + "---|" * (len(names) + 7)]
    for k, r in enumerate(ranked, 1):
        lines.append(f"| {k} | {r['run_dir']} | " + " | ".join(val(r[n]) for n in names)
                     + f" | {num(r['dev_accuracy'], '.4f')} | {num(r['train_accuracy'], '.4f')} | "
                     f"{num(r['final_cost'], '.4f')} | {num(r['seconds'], '.1f')} | {status_text(r)} |")
    return "\n".join(lines) + "\n"
