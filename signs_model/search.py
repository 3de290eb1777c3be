"""Hyperparameter search as the lecture teaches it: random on the right scale,
coarse to fine, and many models side by side ("caviar").

Every trial is an ordinary run folder ``OUT/round{r}/trial{i:03d}`` (written by
``train.train``, or ``population.train_population``), trained on the training
set minus a stratified dev split (near-duplicate photos kept on one side,
``data.dev_split``) and judged on dev accuracy (never on the test set). Round 0
samples the search space; each zoom round samples the same number of trials in
the space zoomed around the best trials so far. The trials run side by side
(``executors``); those that share their minibatches train together in one
graph, at most ``population`` of them (module ``population``; 1 trains each
trial in a graph of its own). Their rows go to ``results.csv`` and
``leaderboard.md`` as each one ends (``results``), and the figures are
``plots.plot_dev_accuracy`` and ``plots.plot_rounds``; ``tensorboard --logdir
OUT`` shows them in its HParams dashboard (``hparams_summary``). With
``prune``, hopeless trials stop early at the rungs of successive halving
(``pruning``), their records shared through ``OUT/rungs.json``. One trial's dev
accuracy is one draw of its seeds: with ``final_seeds``, the best few trials
are trained again with other seeds (``OUT/finalists/``) and the best mean wins.
With ``final_test``, the winner and the base config are each trained once on
the whole training set and scored on the test set (``OUT/final``, ``OUT/baseline``).

Running the same search again with the same ``out_dir`` keeps every trial whose
folder has ``metrics.json`` (or ``stopped.json``: pruned, with or without
``prune`` now) and the same configuration and data; the rest are retrained
from scratch. Trial k of a round is drawn from (seed, round, k) and
that round's space alone, so a rerun with more trials keeps round 0's finished
trials and trains only the new ones (a zoom round keeps its trials only if its
zoomed space came out the same). Local trials run in spawned processes, so a
script that calls ``tune`` needs the ``if __name__ == "__main__":`` guard.

Example:
    >>> trials = sample_trials(default_space(), trials=2, seed=0)
    >>> len(trials), sorted(trials[0])
    (2, ['beta1', 'hidden_units_1', 'hidden_units_2', 'learning_rate', 'minibatch_size'])
    >>> sample_trials(default_space(), 2, seed=0) == trials
    True
    >>> sample_trials(default_space(), 5, seed=0)[:2] == trials
    True
"""
import shutil
from dataclasses import asdict
from pathlib import Path

from . import executors, hparams_summary, pruning, runs, train
from .config import TrainConfig
from .data import NEAR_DUPLICATE_DISTANCE, check_fraction, dev_split
from .errors import SignsError, check_int
from .files import write_json
from .hparams import SearchSpace, config_changes
from .plots import plot_dev_accuracy, plot_rounds
from .results import Result, ResultsTable, Trial, leaderboard

DEFAULT_SPACE = {
    "learning_rate": {"scale": "log", "low": 1e-5, "high": 1e-2},
    "beta1": {"scale": "one_minus_log", "low": 0.8, "high": 0.999},
    "minibatch_size": {"scale": "choice", "values": [16, 32, 64, 128]},
    "hidden_units_1": {"scale": "int", "low": 10, "high": 50},
    "hidden_units_2": {"scale": "int", "low": 6, "high": 24},
}
BACKENDS = executors.BACKENDS
POPULATION = 16  # trials trained together at most, by default (a memory cap: 1 trains each alone)
METRICS = ("dev_accuracy", "train_accuracy", "final_cost")  # results.csv's, after the axes


def default_space():
    """The search space ``tune`` tries when given none: Adam's learning rate and beta1,
    the minibatch size and both hidden layers' sizes."""
    return SearchSpace.from_dict(DEFAULT_SPACE)


def _as_space(space):
    return space if isinstance(space, SearchSpace) else SearchSpace.from_dict(space)


def sample_trials(space, trials, seed):
    """Round 0's sampled trials (what a search would train first), without training anything.

    Args:
        space: SearchSpace (or its dict form); trials: how many; seed: as in ``tune``.
    Returns:
        list of dicts, axis name -> value; trial k does not depend on ``trials``.
    """
    space = _as_space(space)
    check_int("trials", trials)
    check_int("seed", seed, 0)
    return space.sample(trials, seed=seed)


def check_settings(space, trials, workers, backend, epochs, zoom_rounds, dev_fraction, seed,
                   population=POPULATION, finalists=1, final_seeds=1):
    """Refuse impossible search settings with one clear error; returns the space as a SearchSpace."""
    space = _as_space(space)
    check_int("trials", trials)
    check_int("finalists", finalists)
    check_int("final_seeds", final_seeds)
    check_int("workers", workers)
    check_int("population", population)
    check_int("zoom_rounds", zoom_rounds, 0)
    check_int("seed", seed, 0)
    if epochs is not None:
        check_int("epochs", epochs)
    if backend not in BACKENDS:
        raise SignsError(f"backend must be one of {', '.join(BACKENDS)}, got {backend!r}",
                         argument="backend")
    check_fraction(dev_fraction, "dev_fraction")
    return space


def row_params(row, names):
    """The hyperparameters of a results row (as sampled); ``names``: a list or a SearchSpace."""
    return {n: row[n] for n in names}


def _same_run(run_dir, config, notes):
    """True if ``run_dir`` holds a run of this very config (a TrainConfig) and notes (the data
    it was judged on)."""
    try:
        return runs.load_config(run_dir) == config and runs.read_params(run_dir).get("notes") == notes
    except SignsError:  # a damaged folder, or one from an older configuration
        return False


def _finished(run_dir, config, notes):
    """The metrics of a run already finished with this very config and notes, else None."""
    metrics = runs.read_metrics(run_dir)
    return metrics if metrics is not None and _same_run(run_dir, config, notes) else None


def _ended(run_dir, config, notes):
    """How a trial already ended in ``run_dir`` with this config and notes: an ok Result, a
    pruned one (stopped.json), or None if it has to be trained."""
    metrics = _finished(run_dir, config, notes)
    if metrics is not None:
        return Result("ok", metrics, seconds=metrics.get("seconds"))
    stopped = runs.read_stopped(run_dir)
    if stopped is not None and _same_run(run_dir, config, notes):
        return Result("pruned", stopped["metrics"], stopped["reason"], stopped["metrics"].get("seconds"))
    return None


def _name(trial):
    """A trial's run folder within the search folder (its name in results and rung records)."""
    return f"round{trial.round}/trial{trial.index:03d}"


def tune(space, X_train, Y_train, out_dir, trials=20, workers=1, backend="local", ray_address=None,
         epochs=None, zoom_rounds=0, dev_fraction=0.2, seed=0, final_test=None, base_config=None,
         device="auto", report=None, prune=None, population=POPULATION, finalists=1, final_seeds=1):
    """Random search on the right scale, coarse to fine, trials in parallel.

    Args:
        space: SearchSpace (or its dict form), e.g. ``default_space()``.
        X_train (n_x, m) float32, Y_train (n_y, m) one-hot: the training set; a
            stratified ``dev_fraction`` of it (seeded by ``seed``, near-duplicates
            kept together: ``data.dev_split``) judges the trials.
        out_dir: the search folder (run again with the same folder to resume).
        trials: trials per round; zoom_rounds: further rounds, each in the space
            zoomed around the best trials so far.
        workers: trials at a time (local processes, or CPUs of a local Ray instance).
        backend: one of BACKENDS, "local" or "ray"; ray_address joins an existing Ray cluster.
        epochs: num_epochs of every trial, unless the space samples num_epochs.
        seed: round r samples with seed + r; trial k's configuration does not depend
            on ``trials`` (a rerun with more trials keeps the finished ones).
        final_test: (X_test, Y_test): retrain the best config on all of X_train
            into ``out_dir/final`` and measure test accuracy once; the base config
            (the course's default, with the same epochs) is trained the same way
            into ``out_dir/baseline``, so the search's pick has something to beat.
        finalists, final_seeds: before picking the best, train the ``finalists``
            best trials again with ``final_seeds - 1`` other seeds each (minibatch
            order, initial weights and dropout: ``OUT/finalists/``), on the same
            split, and pick the one with the best mean dev accuracy over its seeds
            (a diverged or failed seed counts 0): one lucky trial no longer wins.
        base_config: TrainConfig or dict for what the space does not sample.
        device: "auto", "cpu" or "gpu", for every trial.
        report: called with each finished row (a dict), e.g. to print progress.
        prune: a ``pruning.Asha`` to stop hopeless trials at its rungs (their records
            in ``out_dir/rungs.json``), or None: every trial trains all its epochs.
        population: the most trials that train together in one graph (those that share
            minibatch size, epochs, minibatch seed and preprocessing, ``population``);
            1 trains each in a graph of its own. Their results agree within float32
            round-off (1e-5 in the costs), so a rerun with another value keeps the
            finished trials.
    Returns:
        dict with "rows" (one per trial, results.csv's columns; status "ok",
        "pruned", "diverged" or "failed"), "best" (the best ok row, or None), "best_config"
        (its TrainConfig), "rounds" (SearchSpace per round), "finalists" (run_dir,
        dev_accuracies and mean_dev_accuracy of each, best first; empty with one
        seed), "final" and "baseline" (metrics of those runs, or None).
    """
    space = check_settings(space, trials, workers, backend, epochs, zoom_rounds, dev_fraction, seed,
                           population, finalists, final_seeds)
    base = base_config if isinstance(base_config, TrainConfig) else TrainConfig.from_dict(base_config or {})
    if epochs is not None and "num_epochs" not in space:
        base = base.replace(num_epochs=epochs)
    if getattr(X_train, "ndim", 0) != 2 or getattr(Y_train, "ndim", 0) != 2 \
            or X_train.shape[1] != Y_train.shape[1]:
        raise SignsError("X_train and Y_train must be arrays (n_x, m) and (n_y, m) with the same m",
                         argument="X_train")
    if prune is not None and not isinstance(prune, pruning.Asha):
        raise SignsError(f"prune must be a pruning.Asha or None, got {type(prune).__name__}",
                         argument="prune")
    data = dev_split(X_train, Y_train, dev_fraction, seed)
    # Stored in each params.json: a finished trial counts on a rerun only if its data match too.
    split = {"dev_fraction": dev_fraction, "seed": seed, "m_train": data[0].shape[1],
             "m_dev": data[2].shape[1], "near_duplicate_distance": NEAR_DUPLICATE_DISTANCE}
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    names = list(space)
    table = ResultsTable(out / "results.csv",
                         ["round", "trial", "run_dir", *names, *METRICS, "seconds", "status", "reason"],
                         markdown=(out / "leaderboard.md", lambda rows: leaderboard(rows, names)),
                         report=report)
    planned, spaces = {}, []
    store = pruning.RungStore(out / "rungs.json") if prune else None
    hparams_summary.write_experiment(out, space)

    def done(trial, result):
        row = {"round": trial.round, "trial": trial.index, "run_dir": _name(trial),
               **trial.params, **result.row(METRICS)}
        hparams_summary.write_trial(out / row["run_dir"], trial.params, result.status, result.metrics)
        table.add(row, key=(trial.round, trial.index))

    log = {"seed": seed, "rounds": [], "base_config": base.to_dict(),
           "args": {"trials": trials, "workers": workers, "backend": backend,
                    "ray_address": ray_address, "epochs": epochs, "zoom_rounds": zoom_rounds,
                    "dev_fraction": dev_fraction, "device": device, "population": population,
                    "final_test": final_test is not None,
                    "prune": asdict(prune) if prune else None}}
    for r in range(zoom_rounds + 1):
        if r > 0:  # coarse to fine: around the best trials of all rounds so far
            space = space.zoom([{**row_params(row, names), "score": row["dev_accuracy"]}
                                for row in table.rows() if row["status"] == "ok"])
        spaces.append(space)
        log["rounds"].append({"round": r, "space": space.to_dict()})
        write_json(out / "search.json", log)
        todo = []
        for i, params in enumerate(space.sample(trials, seed=seed + r)):
            trial = planned[r, i] = Trial(r, i, params, notes={"search": {"round": r, "trial": i, **split}})
            trial.run_dir = str(out / _name(trial))
            try:
                trial.config = base.replace(**config_changes(params))
            except SignsError as e:
                done(trial, Result("failed", reason=f"SignsError: {e}"))
                continue
            ended = _ended(trial.run_dir, trial.config, trial.notes)
            if ended is not None:
                done(trial, ended)
            else:
                shutil.rmtree(trial.run_dir, ignore_errors=True)  # no stale checkpoints or events
                if prune:
                    trial.on_epoch = pruning.RungHook(prune, store, _name(trial))
                todo.append(trial)
        if prune:  # what the trials trained again recorded before must not judge the others
            store.forget([_name(t) for t in todo], split)
        executors.run(backend, todo, workers, data, device, done, ray_address, population)
        plot_dev_accuracy(table.rows(), spaces[0], out / "dev_accuracy.png")
        plot_rounds(table.rows(), spaces, out / "rounds.png")

    ok = sorted((row for row in table.rows() if row["status"] == "ok"),
                key=lambda row: (row["dev_accuracy"], -row["final_cost"]), reverse=True)
    log["finalists"] = reseeded = []
    if final_seeds > 1 and ok:  # the best few again with other seeds; the best mean wins
        log["finalists"] = reseeded = _reseed(
            [planned[row["round"], row["trial"]] for row in ok[:finalists]], ok, final_seeds,
            out / "finalists", lambda todo, done: executors.run(
                backend, todo, workers, data, device, done, ray_address, population))
        ok = [next(row for row in ok if row["run_dir"] == f["run_dir"]) for f in reseeded]
    log["best"] = best = ok[0] if ok else None
    best_config = planned[best["round"], best["trial"]].config if best else None
    log["final"] = log["baseline"] = final = baseline = None
    if final_test is not None:
        if best is None:
            raise SignsError("every trial diverged or failed; there is no best configuration "
                             "to retrain")
        sets = {"train": (X_train, Y_train), "test": tuple(final_test)}
        # The one look at the test set, on the full training set: the pick, and the default.
        log["final"] = final = _train_once(out / "final", best_config, X_train, Y_train, sets, device,
                                           {"search": {"final": best["run_dir"],
                                                       "m_train": X_train.shape[1]}})
        log["baseline"] = baseline = _train_once(out / "baseline", base, X_train, Y_train, sets, device,
                                                 {"search": {"baseline": "base config",
                                                             "m_train": X_train.shape[1]}})
    write_json(out / "search.json", log)
    return {"rows": table.rows(), "best": best, "best_config": best_config, "rounds": spaces,
            "finalists": reseeded, "final": final, "baseline": baseline}


def _train_once(run_dir, config, X_train, Y_train, eval_sets, device, notes):
    """The metrics of ``config`` trained into ``run_dir`` (kept from an earlier run if it
    finished there with the same config and notes)."""
    metrics = _finished(run_dir, config, notes)
    if metrics is None:
        shutil.rmtree(run_dir, ignore_errors=True)
        metrics = train.train(config, X_train, Y_train, eval_sets, run_dir=str(run_dir),
                              device=device, progress=False, notes=notes)["metrics"]
    return metrics


def _reseed(trials, rows, seeds, folder, run):
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
                      str(folder / f"{_name(trial).replace('/', '-')}-seed{k}"),
                      {**trial.notes, "reseed": {"of": _name(trial), "k": k}})
            mine.setdefault(_name(trial), []).append(t.run_dir)
            ended = _ended(t.run_dir, t.config, t.notes)
            if ended is not None:
                accuracies[t.run_dir] = ended.metrics.get("dev_accuracy")
            else:
                shutil.rmtree(t.run_dir, ignore_errors=True)
                again.append(t)
    run(again, lambda t, result: accuracies.__setitem__(
        t.run_dir, result.metrics.get("dev_accuracy") if result.status == "ok" else None))
    first = {row["run_dir"]: row["dev_accuracy"] for row in rows}
    table = []
    for name, dirs in mine.items():
        found = [first[name]] + [accuracies.get(d) or 0.0 for d in dirs]
        table.append({"run_dir": name, "dev_accuracies": found,
                      "mean_dev_accuracy": sum(found) / len(found)})
    return sorted(table, key=lambda f: f["mean_dev_accuracy"], reverse=True)  # stable: ties keep rank
