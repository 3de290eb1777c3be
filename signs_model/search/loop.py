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
OUT`` shows them in its HParams dashboard (``tensorboard``).

The search lives in an Optuna study (``study``; ``sqlite:///OUT/study.db``
unless another storage is given): each round's trials are planned there once
(trial k of round r is the lecture's draw from (seed + r, k), whatever process
trains it), every process that runs the same search claims waiting trials
from it, and reports its trials' dev accuracy there. ``results.csv`` and the
leaderboard are written from the study. With ``prune``, Optuna's successive
halving stops hopeless trials at its rungs (``pruning``), judged on what every
process recorded. A process that dies (kill -9, a lost machine) stops its
heartbeat: its trials are failed and retried, from their last checkpoint where
the run folder is reachable (``study_trials``). One trial's dev accuracy is
one draw of its seeds: with ``final_seeds``, the best few trials are trained
again with other seeds (``OUT/finalists/``) and the best mean wins. With
``final_test``, the winner and the base config are each trained once on the
whole training set and scored on the test set (``OUT/final``, ``OUT/baseline``).

Running the same search again (same folder, or same storage and study) trains
only what the study has not finished: a rerun with more trials keeps round
0's trials and trains the new ones; with fewer, the finished ones stay in the
results. Local trials run in spawned processes, so a script that calls
``tune`` needs the ``if __name__ == "__main__":`` guard.

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
import time
from dataclasses import asdict
from pathlib import Path

from . import database, executors, pruning, study, study_trials, tensorboard
from ..config import TrainConfig
from ..settings import DEFAULTS, check
from ..data import NEAR_DUPLICATE_DISTANCE, dev_split
from ..errors import SignsError, check_int
from ..atomic import write_json
from .space import SearchSpace
from .population import populations
from ..plots import plot_dev_accuracy, plot_rounds
from .results import Result, ResultsTable, leaderboard

DEFAULT_SPACE = {
    "learning_rate": {"scale": "log", "low": 1e-5, "high": 1e-2},
    "beta1": {"scale": "one_minus_log", "low": 0.8, "high": 0.999},
    "minibatch_size": {"scale": "choice", "values": [16, 32, 64, 128]},
    "hidden_units_1": {"scale": "int", "low": 10, "high": 50},
    "hidden_units_2": {"scale": "int", "low": 6, "high": 24},
}
BACKENDS = executors.BACKENDS
POPULATION = DEFAULTS["population"]  # trials trained together at most (a memory cap)
METRICS = study_trials.METRICS


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
    check("trials", trials)
    check("seed", seed)
    return space.sample(trials, seed=seed)


def check_settings(space, trials, workers, backend, epochs, zoom_rounds, dev_fraction, seed,
                   population=POPULATION, finalists=DEFAULTS["finalists"],
                   final_seeds=DEFAULTS["final_seeds"], prune=None, sampler="random"):
    """Refuse impossible search settings with one clear error; returns the space as a SearchSpace."""
    space = _as_space(space)
    for name, value in (("trials", trials), ("finalists", finalists), ("final_seeds", final_seeds),
                        ("workers", workers), ("population", population),
                        ("zoom_rounds", zoom_rounds), ("seed", seed), ("dev_fraction", dev_fraction)):
        check(name, value)
    if epochs is not None:
        check_int("epochs", epochs)
    if backend not in BACKENDS:
        raise SignsError(f"backend must be one of {', '.join(BACKENDS)}, got {backend!r}",
                         argument="backend")
    if sampler not in study.SAMPLERS:
        raise SignsError(f"sampler must be one of {', '.join(study.SAMPLERS)}, got {sampler!r}",
                         argument="sampler")
    if sampler != "random" and zoom_rounds:
        raise SignsError(f"zoom rounds are the lecture's coarse-to-fine step for random sampling; "
                         f"{sampler} narrows the search itself: use zoom_rounds=0 with it",
                         argument="zoom_rounds")
    if prune is not None:
        if not isinstance(prune, pruning.Asha):
            raise SignsError(f"prune must be a pruning.Asha or None, got {type(prune).__name__}",
                             argument="prune")
        most = epochs or TrainConfig().num_epochs
        if "num_epochs" in space:
            p = space["num_epochs"]
            most = max(p.values) if p.scale == "choice" else p.high
        if not prune.rungs(most):
            raise SignsError(f"pruning judges trials first after {prune.min_epochs} epochs, but they "
                             f"train {most}: no trial would ever be pruned; lower the first rung "
                             f"below {most} epochs or do not prune", argument="prune_min_epochs")
    return space


def row_params(row, names):
    """The hyperparameters of a results row (as sampled); ``names``: a list or a SearchSpace."""
    return {n: row[n] for n in names}


def tune(space, X_train, Y_train, out_dir, trials=DEFAULTS["trials"], workers=DEFAULTS["workers"],
         backend="local", ray_address=None, epochs=None, zoom_rounds=DEFAULTS["zoom_rounds"],
         dev_fraction=DEFAULTS["dev_fraction"], seed=DEFAULTS["seed"], final_test=None,
         base_config=None, device="auto", report=None, prune=None, population=POPULATION,
         finalists=DEFAULTS["finalists"], final_seeds=DEFAULTS["final_seeds"], storage=None,
         study_name=None, sampler="random"):
    """Random search on the right scale, coarse to fine, trials in parallel, in an Optuna study.

    Args (the defaults and checks of the settings are ``settings.SETTINGS``'):
        space: SearchSpace (or its dict form), e.g. ``default_space()``.
        X_train (n_x, m) float32, Y_train (n_y, m) one-hot: the training set; a
            stratified ``dev_fraction`` of it (seeded by ``seed``, near-duplicates
            kept together: ``data.dev_split``) judges the trials.
        out_dir: the search folder: trial run folders, results.csv, leaderboard.md,
            plots (run again with the same folder, or storage and study, to resume).
        trials: trials per round; zoom_rounds: further rounds, each in the space
            zoomed around the best trials so far (random sampling only).
        workers: trials at a time (local processes, or CPUs of a local Ray instance).
        backend: one of BACKENDS, "local" or "ray"; ray_address joins an existing Ray cluster.
        epochs: num_epochs of every trial, unless the space samples num_epochs.
        seed: round r samples with seed + r; trial k's configuration does not depend
            on ``trials`` (a rerun with more trials keeps the finished ones).
        storage, study_name: the study (``study``): an SQLAlchemy URL (default
            ``sqlite:///OUT/study.db``) and a name (default: the folder's name). Processes
            on several machines given the same storage and study share one search: each
            trial is trained once, by whichever process claims it.
        sampler: "random" (the lecture's, default) or "tpe" (Optuna's TPE).
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
        prune: a ``pruning.Asha`` to stop hopeless trials at its rungs (Optuna's
            successive halving on the study), or None: every trial trains all its epochs.
        population: the most trials that train together in one graph (those that share
            minibatch size, epochs, minibatch seed and preprocessing, ``population``);
            1 trains each in a graph of its own.
    Returns:
        dict with "rows" (one per trial, results.csv's columns; status "ok",
        "pruned", "diverged" or "failed"), "best" (the best ok row, or None), "best_config"
        (its TrainConfig), "rounds" (SearchSpace per round), "finalists" (run_dir,
        dev_accuracies and mean_dev_accuracy of each, best first; empty with one
        seed), "final" and "baseline" (metrics of those runs, or None).
    """
    base = base_config if isinstance(base_config, TrainConfig) else TrainConfig.from_dict(base_config or {})
    space = check_settings(space, trials, workers, backend, epochs or base.num_epochs, zoom_rounds,
                           dev_fraction, seed, population, finalists, final_seeds, prune, sampler)
    if epochs is not None and "num_epochs" not in space:
        base = base.replace(num_epochs=epochs)
    if getattr(X_train, "ndim", 0) != 2 or getattr(Y_train, "ndim", 0) != 2 \
            or X_train.shape[1] != Y_train.shape[1]:
        raise SignsError("X_train and Y_train must be arrays (n_x, m) and (n_y, m) with the same m",
                         argument="X_train")
    data = dev_split(X_train, Y_train, dev_fraction, seed)
    # Stored in the study and each params.json: a search and its trials are judged on these data.
    split = {"dev_fraction": dev_fraction, "seed": seed, "m_train": data[0].shape[1],
             "m_dev": data[2].shape[1], "near_duplicate_distance": NEAR_DUPLICATE_DISTANCE}
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    url = storage or database.default_storage(out)
    name = study_name or database.default_name(out)
    store = database.open_storage(url)
    records = study.open_study(store, name, sampler, seed, prune.pruner() if prune else None)
    study.check_plan(records, url, {"space": space.to_dict(), "split": split,
                                    "base_config": base.to_dict(), "sampler": sampler, "seed": seed})
    names, first_space = list(space), space
    table = ResultsTable(out / "results.csv",
                         ["round", "trial", "run_dir", *names, *METRICS, "seconds", "status", "reason"],
                         markdown=(out / "leaderboard.md", lambda rows: leaderboard(rows, names)))
    tensorboard.write_experiment(out, space)
    spaces, mine = [], {}  # mine: trial id -> optuna.Trial this process claimed and trains

    def refresh():
        table.reset(study_trials.rows(records, first_space), key=lambda row: (row["round"], row["trial"]))
        return table.rows()

    def done(trial, result):
        study_trials.tell(records, store, mine.pop(trial.trial_id), trial, result)
        beat.discard(trial.trial_id)
        tensorboard.write_trial(out / study_trials.name(trial), trial.params, result.status, result.metrics)
        row = next((r for r in refresh() if (r["round"], r["trial"]) == (trial.round, trial.index)),
                   None)
        if report and row is not None:
            report(row)

    def take(r, n):
        """Claim round r's next waiting trials (a population's worth) and yield them as tasks."""
        from optuna.trial import TrialState
        while True:
            waiting = [t for t in records.get_trials(deepcopy=False, states=(TrialState.WAITING,))
                       if t.user_attrs.get("round") == r and t.user_attrs.get("index", n) < n]
            if not waiting:
                return
            pick = waiting[:population]
            if sampler == "random":  # values fixed when planned: claim trials that train together
                configs = [study_trials.config_of(base, study_trials.stored_params(t, first_space))
                           for t in waiting]
                if None in configs:  # no valid config: claimed alone, it fails at once
                    pick = [waiting[configs.index(None)]]
                else:
                    pick = [waiting[i] for i in populations(configs, population)[0]]
            ready = []
            for claimed in study.claim(records, store, [t._trial_id for t in pick]):
                trial = study_trials.planned(claimed, r, first_space, base, split, out)
                mine[trial.trial_id] = claimed
                beat.add(trial.trial_id)
                if trial.config is None:
                    done(trial, Result("failed", reason=trial.notes.pop("error")))
                    continue
                ended = study_trials.ended(trial.run_dir, trial.config, trial.notes)
                if ended is not None:  # trained before its process could record it
                    done(trial, ended)
                    continue
                trial.resume = study_trials.resumable(trial.run_dir, trial.config, trial.notes)
                if not trial.resume:
                    shutil.rmtree(trial.run_dir, ignore_errors=True)  # no stale checkpoints or events
                trial.on_epoch = pruning.Reporter(url, name, trial.trial_id, prune)
                ready.append(trial)
            yield from executors.grouped(ready, population)

    log = {"seed": seed, "rounds": [], "base_config": base.to_dict(), "study": name,
           "storage": database.shown(url), "sampler": sampler,
           "args": {"trials": trials, "workers": workers, "backend": backend,
                    "ray_address": ray_address, "epochs": epochs, "zoom_rounds": zoom_rounds,
                    "dev_fraction": dev_fraction, "device": device, "population": population,
                    "final_test": final_test is not None,
                    "prune": asdict(prune) if prune else None}}
    with study.Heartbeat(store) as beat:
        try:
            for r in range(zoom_rounds + 1):
                if r > 0:  # coarse to fine: around the best trials of all rounds so far
                    space = space.zoom([{**row_params(row, names), "score": row["dev_accuracy"]}
                                        for row in refresh() if row["status"] == "ok"])
                space = study.plan_round(records, url, r, space, trials, seed, sampler)
                spaces.append(space)
                log["rounds"].append({"round": r, "space": space.to_dict()})
                write_json(out / "search.json", log)
                while True:
                    study.fail_stale(records)  # a dead process's trials come back to be retried
                    executors.run(backend, take(r, trials), workers, data, device, done,
                                  ray_address)
                    if study_trials.round_over(records, r, trials):
                        break
                    time.sleep(database.HEARTBEAT_S)  # the rest are trained by other processes
                plot_dev_accuracy(refresh(), spaces[0], out / "dev_accuracy.png")
                plot_rounds(table.rows(), spaces, out / "rounds.png")
        except BaseException:  # Ctrl-C or an error here: what this process held is retried
            study.give_back(records, store, list(mine.values()))
            raise

    rows = refresh()
    ok = sorted((row for row in rows if row["status"] == "ok"),
                key=lambda row: (row["dev_accuracy"], -row["final_cost"]), reverse=True)
    planned = {(row["round"], row["trial"]): study_trials.from_row(row, first_space, base, split, out)
               for row in ok}
    log["finalists"] = reseeded = []
    if final_seeds > 1 and ok:  # the best few again with other seeds; the best mean wins
        log["finalists"] = reseeded = study_trials.reseed(
            [planned[row["round"], row["trial"]] for row in ok[:finalists]], ok, final_seeds,
            out / "finalists", lambda todo, done: executors.run(
                backend, executors.grouped(todo, population), workers, data, device, done,
                ray_address))
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
        log["final"] = final = study_trials.train_once(out / "final", best_config, X_train, Y_train, sets, device,
                                           {"search": {"final": best["run_dir"],
                                                       "m_train": X_train.shape[1]}})
        log["baseline"] = baseline = study_trials.train_once(out / "baseline", base, X_train, Y_train, sets, device,
                                                 {"search": {"baseline": "base config",
                                                             "m_train": X_train.shape[1]}})
    write_json(out / "search.json", log)
    return {"rows": rows, "best": best, "best_config": best_config, "rounds": spaces,
            "finalists": reseeded, "final": final, "baseline": baseline}
