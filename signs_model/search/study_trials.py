"""A search's trials, between its study and the run folders.

Each trial of a search is an Optuna trial in the study (``study``) and a run
folder ``OUT/round{r}/trial{k:03d}`` (``runs``). This module turns one into
the other: a claimed study trial into a ``results.Trial`` to train (resumed
from its checkpoint where an earlier attempt left one, or kept where it
already finished), a ``results.Result`` back into the study (``tell``), the
study into results rows (``rows``), and the finalists' retraining with other
seeds (``reseed``) and the one look at the test set (``train_once``).
"""
import shutil

from .. import runs, train
from . import study
from ..errors import SignsError
from .space import config_changes
from .results import Result, Trial

METRICS = ("dev_accuracy", "train_accuracy", "final_cost")  # results.csv's, after the axes


def same_run(run_dir, config, notes):
    """True if ``run_dir`` holds a run of this very config (a TrainConfig) and notes (the data
    it was judged on)."""
    try:
        return runs.load_config(run_dir) == config and runs.read_params(run_dir).get("notes") == notes
    except SignsError:  # a damaged folder, or one from an older configuration
        return False


def finished(run_dir, config, notes):
    """The metrics of a run already finished with this very config and notes, else None."""
    metrics = runs.read_metrics(run_dir)
    return metrics if metrics is not None and same_run(run_dir, config, notes) else None


def ended(run_dir, config, notes):
    """How a trial already ended in ``run_dir`` with this config and notes: an ok Result, a
    pruned one (stopped.json), or None if it has to be trained."""
    metrics = finished(run_dir, config, notes)
    if metrics is not None:
        return Result("ok", metrics, seconds=metrics.get("seconds"))
    stopped = runs.read_stopped(run_dir)
    if stopped is not None and same_run(run_dir, config, notes):
        return Result("pruned", stopped["metrics"], stopped["reason"], stopped["metrics"].get("seconds"))
    return None


def resumable(run_dir, config, notes):
    """True if ``run_dir`` holds a checkpoint of this very config and notes to continue."""
    return runs.latest_checkpoint(run_dir) is not None and same_run(run_dir, config, notes)


def name(trial):
    """A trial's run folder within the search folder (its name in results and rung records)."""
    return f"round{trial.round}/trial{trial.index:03d}"


def config_of(base, params):
    """The TrainConfig of sampled ``params``, or None if they make no valid one."""
    try:
        return base.replace(**config_changes(params))
    except SignsError:
        return None


def stored_params(trial, space):
    """A study trial's values in the user's terms: recorded, or fixed when it was planned."""
    stored = trial.params or trial.system_attrs.get("fixed_params", {})
    return {n: study.decode(stored.get(n), p.values[0] if p.scale == "choice" else None)
            for n, p in space.items()}


def make(r, k, params, base, split, out):
    trial = Trial(r, k, params, notes={"search": {"round": r, "trial": k, **split}})
    trial.run_dir = str(out / name(trial))
    try:
        trial.config = base.replace(**config_changes(params))
    except SignsError as e:
        trial.notes["error"] = f"SignsError: {e}"
    return trial


def planned(claimed, r, space, base, split, out):
    """The Trial record of a study trial this process claimed (its values recorded now)."""
    trial = make(r, claimed.user_attrs["index"], study.suggest(claimed, space), base, split, out)
    trial.trial_id = claimed._trial_id
    claimed.set_user_attr("run_dir", name(trial))
    return trial


def from_row(row, space, base, split, out):
    return make(row["round"], row["trial"], {n: row[n] for n in space}, base, split, out)


def tell(records, store, claimed, trial, result):
    """Record how ``trial`` ended in the study; a trial whose worker died is queued again."""
    import optuna
    from optuna.trial import TrialState

    attrs = {"run_dir": name(trial), "status": result.status, "reason": result.reason,
             "seconds": result.seconds, **{m: result.metrics.get(m) for m in METRICS}}
    state = {"ok": TrialState.COMPLETE, "pruned": TrialState.PRUNED}.get(result.status,
                                                                          TrialState.FAIL)
    try:
        for key, value in attrs.items():
            claimed.set_user_attr(key, value)
        records.tell(claimed, result.metrics["dev_accuracy"] if state == TrialState.COMPLETE
                     else None, state=state)
    except (optuna.exceptions.UpdateFinishedTrialError, RuntimeError, ValueError):
        return  # another process declared it dead meanwhile: its retry is queued already
    if result.lost:
        callback = store.get_heartbeat_stale_trial_callback()
        if callback is not None:
            callback(records, store.get_trial(trial.trial_id))


def rows(records, space):
    """The study as results rows: each planned trial's latest attempt that is over."""
    rows = []
    for (r, k), t in sorted(study.latest(records).items()):
        if not study.ended(t):
            continue
        a = t.user_attrs
        status = {"COMPLETE": "ok", "PRUNED": "pruned"}.get(t.state.name) or \
            ("diverged" if a.get("status") == "diverged" else "failed")
        reason = a.get("reason") or ("its process stopped (no heartbeat) and was not retried again"
                                     if status == "failed" else "")
        rows.append({"round": r, "trial": k, "run_dir": a.get("run_dir", f"round{r}/trial{k:03d}"),
                     **stored_params(t, space), **{m: a.get(m) for m in METRICS},
                     "seconds": a.get("seconds"), "status": status, "reason": reason})
    return rows


def round_over(records, r, trials):
    """True when every trial 0 .. trials-1 of round r has ended (and has no retry queued)."""
    latest = study.latest(records)
    return all((r, k) in latest and study.ended(latest[r, k]) for k in range(trials))


def train_once(run_dir, config, X_train, Y_train, eval_sets, device, notes):
    """The metrics of ``config`` trained into ``run_dir`` (kept from an earlier run if it
    finished there with the same config and notes)."""
    metrics = finished(run_dir, config, notes)
    if metrics is None:
        shutil.rmtree(run_dir, ignore_errors=True)
        metrics = train.train(config, X_train, Y_train, eval_sets, run_dir=str(run_dir),
                              device=device, progress=False, notes=notes)["metrics"]
    return metrics


def reseed(trials, rows, seeds, folder, run):
    """Train ``trials`` again with seeds 1 .. seeds-1 added to theirs, into ``folder``.

    Args:
        rows: the search's rows (each trial's first dev accuracy); run(todo, done): the executor.
    Returns:
        one dict per trial: run_dir, dev_accuracies (its own first), mean_dev_accuracy;
        best mean first (ties: the better single trial first).
    """
    again, accuracies, mine = [], {}, {}
    for trial in trials:
        for k in range(1, seeds):
            config = trial.config.replace(seed=trial.config.seed + k, tf_seed=trial.config.tf_seed + k)
            t = Trial(trial.round, trial.index, trial.params, config,
                      str(folder / f"{name(trial).replace('/', '-')}-seed{k}"),
                      {**trial.notes, "reseed": {"of": name(trial), "k": k}})
            mine.setdefault(name(trial), []).append(t.run_dir)
            before = ended(t.run_dir, t.config, t.notes)
            if before is not None:
                accuracies[t.run_dir] = before.metrics.get("dev_accuracy")
            else:
                shutil.rmtree(t.run_dir, ignore_errors=True)
                again.append(t)
    run(again, lambda t, result: accuracies.__setitem__(
        t.run_dir, result.metrics.get("dev_accuracy") if result.status == "ok" else None))
    first = {row["run_dir"]: row["dev_accuracy"] for row in rows}
    table = []
    for of, dirs in mine.items():
        found = [first[of]] + [accuracies.get(d) or 0.0 for d in dirs]
        table.append({"run_dir": of, "dev_accuracies": found,
                      "mean_dev_accuracy": sum(found) / len(found)})
    return sorted(table, key=lambda f: f["mean_dev_accuracy"], reverse=True)  # stable: ties keep rank
