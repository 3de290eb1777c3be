"""Hyperparameter search as the lecture teaches it: random on the right scale,
coarse to fine, and many models side by side ("caviar").

Every trial is an ordinary run folder ``OUT/round{r}/trial{i:03d}`` written by
``train.train``, trained on the training set minus a stratified dev split and
judged on dev accuracy (never on the test set). Round 0 samples the search
space; each zoom round samples the same number of trials in the space zoomed
around the best trials so far. Trials run in worker processes (``local``: a
``spawn`` process pool on this machine) or as Ray tasks (``ray``: this machine
or a cluster; the output folder must then be on a filesystem every node sees).

Running the same search again with the same ``out_dir`` keeps every trial whose
folder has ``metrics.json`` and the same configuration and data; the rest are
retrained from scratch. Trial k of a round is drawn from (seed, round, k) and
that round's space alone, so a rerun with more trials keeps round 0's finished
trials and trains only the new ones (a zoom round keeps its trials only if its
zoomed space came out the same). Local worker processes die with the search
process, even on ``kill -9``, so no orphan trains on unseen. They are spawned,
so a script that calls ``tune`` needs the ``if __name__ == "__main__":`` guard.

Example:
    >>> configs = tune(DEFAULT_SPACE, None, None, "runs/tune", trials=2, dry_run=True)
    >>> len(configs), sorted(configs[0])
    (2, ['beta1', 'hidden_units_1', 'hidden_units_2', 'learning_rate', 'minibatch_size'])
    >>> tune(DEFAULT_SPACE, None, None, "runs/tune", trials=2, dry_run=True) == configs
    True
    >>> tune(DEFAULT_SPACE, None, None, "runs/tune", trials=5, dry_run=True)[:2] == configs
    True
"""
import ctypes
import json
import math
import multiprocessing
import os
import shutil
import signal
import sys
import threading
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from matplotlib.ticker import NullFormatter

from . import runs
from . import train as training
from .config import TrainConfig
from .data import dev_split
from .errors import SignsError
from .files import atomic_write_bytes, write_csv, write_json
from .hparams import SearchSpace
from .plots import finish

DEFAULT_SPACE = {
    "learning_rate": {"scale": "log", "low": 1e-5, "high": 1e-2},
    "beta1": {"scale": "one_minus_log", "low": 0.8, "high": 0.999},
    "minibatch_size": {"scale": "choice", "values": [16, 32, 64, 128]},
    "hidden_units_1": {"scale": "int", "low": 10, "high": 50},
    "hidden_units_2": {"scale": "int", "low": 6, "high": 24},
}
BACKENDS = ("local", "ray")
METRICS = ("dev_accuracy", "train_accuracy", "final_cost", "seconds", "status", "reason")
_DATA = None  # (X_train, Y_train, X_dev, Y_dev), sent once to each local worker process


def _init_worker(data, parent_pid):
    """Runs first in each local worker: keep the data, and die with the search process."""
    global _DATA
    _DATA = data
    _exit_with_parent(parent_pid)


def _exit_with_parent(parent_pid):
    """End this process when ``parent_pid`` dies (e.g. ``kill -9`` of ``signs tune``).

    Without this, a worker of a killed search trains on, orphaned, until its
    trial ends. Linux kills it at once (PR_SET_PDEATHSIG: sent when the thread
    that spawned the worker ends, here the one running ``tune``, which waits
    for its workers); everywhere, a daemon thread notices within half a second
    that the parent changed (the worker was re-parented) and exits.
    """
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None)
            libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # 1 = PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass  # no prctl here: the thread below still watches
    if os.getppid() != parent_pid:  # the parent died before prctl took effect
        os._exit(1)

    def watch():
        while os.getppid() == parent_pid:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


def run_trial(job, threads=None, device="auto", data=None):
    """Train one trial into its run folder; runs inside a worker process or Ray task.

    Args:
        job: dict with "config" (TrainConfig dict), "run_dir" and "notes" (for params.json).
        data: (X_train, Y_train, X_dev, Y_dev); None uses the worker's copy.
    Returns:
        {"status": "ok", "metrics": {...}} or {"status": "failed", "reason": str, "seconds": s}.
    """
    X, Y, X_dev, Y_dev = data if data is not None else _DATA
    t0 = time.perf_counter()
    try:
        result = training.train(TrainConfig.from_dict(job["config"]), X, Y,
                                {"train": (X, Y), "dev": (X_dev, Y_dev)}, run_dir=job["run_dir"],
                                device=device, progress=False, threads=threads, notes=job["notes"])
        return {"status": "ok", "metrics": result["metrics"]}
    except Exception as e:  # a crash or a NaN is this trial's result, not the search's end
        reason = f"{type(e).__name__}: {e}".splitlines()[0]
        return {"status": "failed", "reason": reason, "seconds": round(time.perf_counter() - t0, 3)}


def _finished(job):
    """The metrics of a trial already finished with this very config and data, else None."""
    run_dir = job["run_dir"]
    metrics = runs.read_metrics(run_dir)
    try:
        if (metrics is not None and runs.load_config(run_dir).to_dict() == job["config"]
                and runs.read_params(run_dir).get("notes") == job["notes"]):
            return metrics
    except SignsError:  # a damaged folder, or one from an older configuration
        pass
    return None


def _run_local(jobs, workers, data, threads, device, done):
    """Run jobs on a spawn process pool, at most ``workers`` at a time; a broken pool is replaced."""
    todo, running, pool = list(jobs), {}, None
    try:
        while todo or running:
            if pool is None:
                pool = ProcessPoolExecutor(max_workers=workers,
                                           mp_context=multiprocessing.get_context("spawn"),
                                           initializer=_init_worker, initargs=(data, os.getpid()))
            try:
                while todo and len(running) < workers:
                    running[pool.submit(run_trial, todo[0], threads, device)] = todo[0]
                    todo.pop(0)
            except BrokenProcessPool:
                pass  # a worker died while idle: what is running reports it, then a new pool
            broken = not running
            for future in wait(running, return_when=FIRST_COMPLETED)[0] if running else ():
                job, error = running.pop(future), future.exception()
                if isinstance(error, KeyboardInterrupt):  # Ctrl-C reached the workers: stop
                    raise error
                if isinstance(error, BrokenProcessPool):
                    broken = True  # every trial of the pool that was in flight lands here
                    done(job, {"status": "failed", "reason": f"worker process died ({error})"})
                elif error is not None:
                    done(job, {"status": "failed", "reason": f"{type(error).__name__}: {error}"})
                else:
                    done(job, future.result())
            if broken:
                pool.shutdown(wait=False, cancel_futures=True)
                pool = None
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)


def _run_ray(jobs, workers, data, address, device, done):
    """Run jobs as Ray tasks (one CPU each) on a local Ray instance or the cluster at ``address``."""
    try:
        import ray
    except ImportError:
        raise SignsError("backend 'ray' needs Ray: pip install 'ray[tune]'") from None
    started = not ray.is_initialized()
    if started:
        ray.init(address=address, num_cpus=None if address else workers, include_dashboard=False,
                 log_to_driver=False, runtime_env={"env_vars": {"TF_CPP_MIN_LOG_LEVEL": "3"}})
    try:
        task = ray.remote(num_cpus=1, max_retries=0)(run_trial)
        data_ref = ray.put(data)  # one copy in the object store, not one per task
        running = {task.remote(job, 1, device, data_ref): job for job in jobs}
        while running:
            ready, _ = ray.wait(list(running), num_returns=1)
            job = running.pop(ready[0])
            try:
                done(job, ray.get(ready[0]))
            except ray.exceptions.RayError as e:  # the worker died, or the task could not run
                done(job, {"status": "failed", "reason": f"ray worker failed ({type(e).__name__}: "
                                                         f"{str(e).splitlines()[0]})"})
    finally:
        if started:
            ray.shutdown()


def _check(space, trials, workers, backend, epochs, zoom_rounds, dev_fraction, seed):
    def int_at_least(name, v, low=1):
        if not isinstance(v, int) or isinstance(v, bool) or v < low:
            raise SignsError(f"{name} must be an int >= {low}, got {v!r}")

    if not isinstance(space, SearchSpace):
        space = SearchSpace.from_dict(space)
    int_at_least("trials", trials)
    int_at_least("workers", workers)
    int_at_least("zoom_rounds", zoom_rounds, 0)
    int_at_least("seed", seed, 0)
    if epochs is not None:
        int_at_least("epochs", epochs)
    if backend not in BACKENDS:
        raise SignsError(f"backend must be one of {', '.join(BACKENDS)}, got {backend!r}")
    if not (isinstance(dev_fraction, (int, float)) and 0 < dev_fraction < 1):
        raise SignsError(f"dev_fraction must be a number in (0, 1), got {dev_fraction!r}")
    return space


def tune(space, X_train, Y_train, out_dir, trials=20, workers=1, backend="local", ray_address=None,
         epochs=None, zoom_rounds=0, dev_fraction=0.2, seed=0, final_test=None, dry_run=False,
         base_config=None, device="auto", report=None):
    """Random search on the right scale, coarse to fine, trials in parallel.

    Args:
        space: SearchSpace (or its dict form).
        X_train (n_x, m) float32, Y_train (n_y, m) one-hot: the training set; a
            stratified ``dev_fraction`` of it (seeded by ``seed``) judges the trials.
        out_dir: the search folder (run again with the same folder to resume).
        trials: trials per round; zoom_rounds: further rounds, each in the space
            zoomed around the best trials so far.
        workers: trials at a time (local processes, or CPUs of a local Ray instance).
        backend: "local" or "ray"; ray_address joins an existing Ray cluster.
        epochs: num_epochs of every trial, unless the space samples num_epochs.
        seed: round r samples with seed + r; trial k's configuration does not depend
            on ``trials`` (a rerun with more trials keeps the finished ones).
        final_test: (X_test, Y_test): retrain the best config on all of X_train
            into ``out_dir/final`` and measure test accuracy once.
        dry_run: only return round 0's sampled configurations (X_train may be None).
        base_config: TrainConfig or dict for what the space does not sample.
        report: called with each finished row (a dict), e.g. to print progress.
    Returns:
        dry_run: list of round 0's sampled dicts. Else a dict with "rows" (one per
        trial, results.csv's columns), "best" (best row), "rounds" (SearchSpace per round)
        and "final" (metrics of the final run, or None).
    """
    space = _check(space, trials, workers, backend, epochs, zoom_rounds, dev_fraction, seed)
    if dry_run:
        return space.sample(trials, seed=seed)
    base = base_config if isinstance(base_config, TrainConfig) else TrainConfig.from_dict(base_config or {})
    if epochs is not None and "num_epochs" not in space:
        base = base.replace(num_epochs=epochs)
    if getattr(X_train, "ndim", 0) != 2 or getattr(Y_train, "ndim", 0) != 2 \
            or X_train.shape[1] != Y_train.shape[1]:
        raise SignsError("X_train and Y_train must be arrays (n_x, m) and (n_y, m) with the same m")
    data = dev_split(X_train, Y_train, dev_fraction, seed)
    # Stored in each params.json: a finished trial counts on a rerun only if its data match too.
    split = {"dev_fraction": dev_fraction, "seed": seed, "m_train": data[0].shape[1],
             "m_dev": data[2].shape[1]}
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    results, spaces = Results(out, list(space), report), []
    log = {"seed": seed, "rounds": [], "base_config": base.to_dict(),
           "args": {"trials": trials, "workers": workers, "backend": backend,
                    "ray_address": ray_address, "epochs": epochs, "zoom_rounds": zoom_rounds,
                    "dev_fraction": dev_fraction, "device": device, "final_test": final_test is not None}}
    for r in range(zoom_rounds + 1):
        if r > 0:  # coarse to fine: around the best trials of all rounds so far
            space = space.zoom([{**row_params(row, space), "score": row["dev_accuracy"]}
                                for row in results.rows() if row["status"] == "ok"])
        spaces.append(space)
        log["rounds"].append({"round": r, "space": space.to_dict()})
        write_json(out / "search.json", log)
        jobs = []
        for i, params in enumerate(space.sample(trials, seed=seed + r)):
            job = {"round": r, "trial": i, "params": params, "rel": f"round{r}/trial{i:03d}",
                   "notes": {"search": {"round": r, "trial": i, **split}}}
            job["run_dir"] = str(out / job["rel"])
            try:
                job["config"] = TrainConfig.from_dict({**base.to_dict(), **params}).to_dict()
            except SignsError as e:
                results.add(job, {"status": "failed", "reason": f"SignsError: {e}"})
                continue
            metrics = _finished(job)
            if metrics is not None:
                results.add(job, {"status": "ok", "metrics": metrics})
            else:
                shutil.rmtree(job["run_dir"], ignore_errors=True)  # no stale checkpoints or events
                jobs.append(job)
        if jobs and backend == "ray":
            _run_ray(jobs, workers, data, ray_address, device, results.add)
        elif jobs:
            _run_local(jobs, workers, data, 1 if workers > 1 else None, device, results.add)
        plot_dev_accuracy(results.rows(), spaces[0], out / "dev_accuracy.png")
        plot_rounds(results.rows(), spaces, out / "rounds.png")

    ok = [row for row in results.rows() if row["status"] == "ok"]
    log["best"] = best = max(ok, key=lambda row: (row["dev_accuracy"], -row["final_cost"]), default=None)
    log["final"] = final = None
    if final_test is not None:
        if best is None:
            raise SignsError("every trial failed; there is no best configuration to retrain")
        cfg = TrainConfig.from_dict({**base.to_dict(), **row_params(best, space)})
        job = {"run_dir": str(out / "final"), "config": cfg.to_dict(),
               "notes": {"search": {"final": best["run_dir"], "m_train": X_train.shape[1]}}}
        log["final"] = final = _finished(job)
        if final is None:  # the one look at the test set, on the full training set
            shutil.rmtree(job["run_dir"], ignore_errors=True)
            log["final"] = final = training.train(
                cfg, X_train, Y_train, {"train": (X_train, Y_train), "test": tuple(final_test)},
                run_dir=job["run_dir"], device=device, progress=False, notes=job["notes"])["metrics"]
    write_json(out / "search.json", log)
    return {"rows": results.rows(), "best": best, "rounds": spaces, "final": final}


class Results:
    """The trials' rows, rewritten to results.csv and leaderboard.md as each trial ends."""

    def __init__(self, out, names, report=None):
        self.out, self.names, self.report, self._rows = out, names, report, {}
        self.header = ["round", "trial", "run_dir", *names, *METRICS]

    def rows(self):
        return [self._rows[k] for k in sorted(self._rows)]

    def add(self, job, result):
        m = result.get("metrics", {})
        row = {"round": job["round"], "trial": job["trial"], "run_dir": job["rel"], **job["params"],
               **{k: m.get(k) for k in ("dev_accuracy", "train_accuracy", "final_cost")},
               "seconds": m.get("seconds", result.get("seconds")),
               "status": result["status"], "reason": result.get("reason", "")}
        self._rows[job["round"], job["trial"]] = row
        write_csv(self.out / "results.csv", self.header, ([r[h] for h in self.header] for r in self.rows()))
        atomic_write_bytes(self.out / "leaderboard.md", leaderboard(self.rows(), self.names).encode())
        if self.report:
            self.report(row)


def row_params(row, names):
    """The hyperparameters of a results row (as sampled); ``names``: a list or a SearchSpace."""
    return {n: row[n] for n in names}


def leaderboard(rows, names):
    """A Markdown table of the trials, best dev accuracy first, failed trials last."""
    def num(v, fmt):
        return "" if v is None else format(v, fmt)

    def val(v):
        return format(v, ".4g") if isinstance(v, float) else str(v)

    ranked = sorted(rows, key=lambda r: (r["status"] != "ok", -(r["dev_accuracy"] or 0)))
    lines = ["| rank | trial | " + " | ".join(names) + " | dev acc | train acc | final cost | s | status |",
             "|" + "---|" * (len(names) + 7)]
    for k, r in enumerate(ranked, 1):
        status = r["status"] if r["status"] == "ok" else f"{r['status']}: {r['reason']}".replace("|", "/")
        lines.append(f"| {k} | {r['run_dir']} | " + " | ".join(val(r[n]) for n in names)
                     + f" | {num(r['dev_accuracy'], '.4f')} | {num(r['train_accuracy'], '.4f')} | "
                     f"{num(r['final_cost'], '.4f')} | {num(r['seconds'], '.1f')} | {status} |")
    return "\n".join(lines) + "\n"


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
    """Dev accuracy against each hyperparameter, one panel per axis, coloured by round."""
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
    round's box drawn around them; x marks a failed trial."""
    main = sorted(spaces[0].values(), key=lambda p: p.scale == "choice")[:2]
    fig = Figure(figsize=(5.5, 4.5), layout="constrained")
    ax = fig.add_subplot()
    for rnd, space in enumerate(spaces):
        mine = [r for r in rows if r["round"] == rnd]
        for status, marker in (("ok", "o"), ("failed", "x")):
            pts = [r for r in mine if r["status"] == status]
            ys = (_axis(main[1], [r[main[1].name] for r in pts])[0] if len(main) > 1
                  else [r["dev_accuracy"] or 0 for r in pts])
            ax.scatter(_axis(main[0], [r[main[0].name] for r in pts])[0], ys, marker=marker,
                       color=f"C{rnd}", label=f"round {rnd}" if status == "ok" else None)
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


def cmd_tune(args):
    from .data import load_signs

    space = SearchSpace.from_json(args.space) if args.space else SearchSpace.from_dict(DEFAULT_SPACE)
    _check(space, args.trials, args.workers, args.backend, args.epochs, args.zoom_rounds,
           args.dev_fraction, args.seed)
    if args.dry_run:
        for i, params in enumerate(tune(space, None, None, args.out, trials=args.trials,
                                        seed=args.seed, dry_run=True)):
            print(json.dumps({"round": 0, "trial": i, **params}))
        return
    if not args.out:
        raise SignsError("--out DIR is required: the search folder (run again with it to resume)")
    data = load_signs(args.data_dir)

    def report(row):
        acc = "" if row["dev_accuracy"] is None else f" dev accuracy {row['dev_accuracy']:.4f}"
        print(f"{row['run_dir']}: {row['status']}{acc}{' ' + row['reason'] if row['reason'] else ''}",
              file=sys.stderr)

    result = tune(space, data.X_train, data.Y_train, args.out, trials=args.trials,
                  workers=args.workers, backend=args.backend, ray_address=args.ray_address,
                  epochs=args.epochs, zoom_rounds=args.zoom_rounds, dev_fraction=args.dev_fraction,
                  seed=args.seed, device=args.device, report=report,
                  final_test=(data.X_test, data.Y_test) if args.final_test else None)
    best, ok = result["best"], sum(r["status"] == "ok" for r in result["rows"])
    print(f"{ok} of {len(result['rows'])} trials finished; results: {Path(args.out) / 'results.csv'}")
    if best is not None:
        print(f"best: {best['run_dir']} dev accuracy {best['dev_accuracy']:.4f} "
              + json.dumps(row_params(best, space)))
    if result["final"] is not None:
        print(f"Test Accuracy: {result['final']['test_accuracy']:.6f} "
              f"(best config retrained on the full training set: {Path(args.out) / 'final'})")


def add_subcommands(subparsers):
    """Register ``signs tune`` on the CLI's subparsers."""
    from .cli import add_data_arg, add_device_arg  # here, not at the top: the CLI imports this module
    p = subparsers.add_parser("tune", help="random hyperparameter search, coarse to fine, in parallel")
    p.add_argument("--space", metavar="FILE", help="search space JSON (default: learning_rate, "
                   "beta1, minibatch_size, hidden_units_1, hidden_units_2)")
    p.add_argument("--trials", type=int, default=20, metavar="N", help="trials per round (default 20)")
    p.add_argument("--workers", type=int, default=1, metavar="W", help="trials at a time (default 1)")
    p.add_argument("--backend", choices=BACKENDS, default="local",
                   help="local: a process pool here (default); ray: Ray tasks")
    p.add_argument("--ray-address", metavar="ADDR", help="join this Ray cluster "
                   "(default: start a local one with --workers CPUs)")
    p.add_argument("--epochs", type=int, help="num_epochs of every trial (unless the space samples it)")
    p.add_argument("--zoom-rounds", type=int, default=0, metavar="R",
                   help="coarse to fine: R more rounds in the space zoomed around the best trials")
    p.add_argument("--dev-fraction", type=float, default=0.2,
                   help="share of the training set held out to judge trials (default 0.2)")
    p.add_argument("--out", metavar="DIR", help="search folder (the same DIR resumes)")
    p.add_argument("--seed", type=int, default=0, help="sampling and dev split seed (default 0)")
    p.add_argument("--final-test", action="store_true",
                   help="retrain the best config on the whole training set and report test accuracy once")
    p.add_argument("--dry-run", action="store_true",
                   help="print round 0's sampled configurations as JSON lines; train nothing")
    add_data_arg(p)
    add_device_arg(p)
    p.set_defaults(func=cmd_tune)
