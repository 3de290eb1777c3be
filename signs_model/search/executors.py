"""Running trials side by side ("caviar"): in worker processes here, or as Ray tasks.

``run`` takes tasks, each a list of trials that train together in one graph
(``grouped`` makes them from a list: ``population.populations``), from a list
or from an iterator that hands out the next task when a worker is free (a
search claiming trials from its study), and calls ``done(trial, result)`` in
this process for each trial of a task as it ends, whatever order they end in:

* ``run_local``: a ``spawn`` process pool on this machine. The data is sent
  once to each worker. Workers die with the process that started them, even
  on ``kill -9``, so no orphan trains on unseen; a worker that dies fails the
  trials of its task and a new pool runs the rest. Spawned workers re-import
  the caller's script, so a script that runs trials needs the
  ``if __name__ == "__main__":`` guard.
* ``run_ray``: Ray tasks (one CPU each) on a local Ray instance or a cluster;
  the run folders must then be on a filesystem every node sees.
"""
import ctypes
import multiprocessing
import os
import signal
import sys
import threading
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool

from .. import train
from ..errors import SignsError
from .population import populations, train_population
from .results import Result, attempt, ended_by

BACKENDS = ("local", "ray")
CHECKPOINT_EVERY = 20  # epochs between a trial's checkpoints: a retried trial resumes from the last
_DATA = None  # (X_train, Y_train, X_dev, Y_dev), sent once to each local worker process


def run_trial(trial, data=None, threads=None, device="auto"):
    """Train one trial into its run folder, judged on dev; runs in a worker process or Ray task.

    Args:
        trial: results.Trial (its config, run_dir and notes).
        data: (X_train, Y_train, X_dev, Y_dev); None uses this worker's copy.
        threads: TensorFlow threads per op pool (None: TensorFlow's choice).
    Returns:
        results.Result: ok with the run's metrics, pruned, diverged or failed.
    """
    X, Y, X_dev, Y_dev = data if data is not None else _DATA
    return attempt(lambda: train.train(
        trial.config, X, Y, {"train": (X, Y), "dev": (X_dev, Y_dev)}, run_dir=trial.run_dir,
        device=device, progress=False, threads=threads, notes=trial.notes,
        on_epoch=trial.on_epoch, resume=trial.resume,
        checkpoint_every=CHECKPOINT_EVERY)["metrics"])


def run_population(trials, data=None, threads=None, device="auto"):
    """Train trials that share their minibatches together (``population.train_population``),
    judged on dev; a single trial trains alone (``run_trial``). Runs in a worker or Ray task.

    Returns:
        list of results.Result, one per trial (an error before training fails them all).
    """
    if len(trials) == 1:
        return [run_trial(trials[0], data, threads, device)]
    X, Y, X_dev, Y_dev = data if data is not None else _DATA
    outcomes = []

    def train_all():
        outcomes.extend(train_population(
            [t.config for t in trials], X, Y, {"train": (X, Y), "dev": (X_dev, Y_dev)},
            [t.run_dir for t in trials], device=device, progress=False, threads=threads,
            notes=[t.notes for t in trials], on_epoch=[t.on_epoch for t in trials],
            checkpoint_every=CHECKPOINT_EVERY))
        return {}

    together = attempt(train_all)
    if together.status != "ok":
        return [together] * len(trials)
    share = round(together.seconds / len(trials), 3)
    return [ended_by(o, share) if isinstance(o, Exception)
            else Result("ok", o["metrics"], seconds=o["metrics"]["seconds"]) for o in outcomes]


def grouped(trials, population=1):
    """``trials`` as tasks: those that share their minibatches together, at most ``population``
    a task (1: one trial a task); a trial that resumes trains alone."""
    fresh = [t for t in trials if not t.resume]
    order = {id(t): i for i, t in enumerate(trials)}
    return sorted([[fresh[i] for i in group]
                   for group in populations([t.config for t in fresh], population)]
                  + [[t] for t in trials if t.resume], key=lambda task: order[id(task[0])])


def run(backend, tasks, workers, data, device, done, ray_address=None):
    """Run ``tasks`` (lists of trials; a list, or an iterator asked when a worker is free)
    with the named backend ("local" or "ray"), ``workers`` tasks at a time."""
    if backend not in BACKENDS:
        raise SignsError(f"backend must be one of {', '.join(BACKENDS)}, got {backend!r}",
                         argument="backend")
    if backend == "ray":
        run_ray(iter(tasks), workers, data, device, done, ray_address)
    else:
        run_local(iter(tasks), workers, data, device, done)


def _init_worker(data, parent_pid):
    """Runs first in each local worker: keep the data, and die with the parent process."""
    global _DATA
    _DATA = data
    _exit_with_parent(parent_pid)


def _exit_with_parent(parent_pid):
    """End this process when ``parent_pid`` dies (e.g. ``kill -9`` of ``signs tune``).

    Without this, a worker of a killed search trains on, orphaned, until its
    trial ends. Linux kills it at once (PR_SET_PDEATHSIG: sent when the thread
    that spawned the worker ends, here the one running the pool, which waits
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


def run_local(tasks, workers, data, device, done):
    """Run tasks (an iterator of lists of trials, ``run_population``) on a spawn process pool,
    at most ``workers`` at a time; a broken pool is replaced."""
    threads = 1 if workers > 1 else None  # side by side, one thread each beats oversubscribing
    retry, running, pool, more = [], {}, None, True
    try:
        while True:
            while more and len(running) + len(retry) < workers:
                task = next(tasks, None)
                if task is None:
                    more = False
                else:
                    retry.append(task)
            if not retry and not running:
                break
            if pool is None:
                pool = ProcessPoolExecutor(max_workers=workers,
                                           mp_context=multiprocessing.get_context("spawn"),
                                           initializer=_init_worker, initargs=(data, os.getpid()))
            try:
                while retry:
                    running[pool.submit(run_population, retry[0], None, threads, device)] = retry[0]
                    retry.pop(0)
            except BrokenProcessPool:
                pass  # a worker died while idle: what is running reports it, then a new pool
            broken = not running
            for future in wait(running, return_when=FIRST_COMPLETED)[0] if running else ():
                task, error = running.pop(future), future.exception()
                if isinstance(error, KeyboardInterrupt):  # Ctrl-C reached the workers: stop
                    raise error
                if isinstance(error, BrokenProcessPool):
                    broken = True  # every task of the pool that was in flight lands here
                    results = [Result("failed", reason=f"worker process died ({error})", lost=True)] * len(task)
                elif error is not None:
                    results = [Result("failed", reason=f"{type(error).__name__}: {error}")] * len(task)
                else:
                    results = future.result()
                for trial, result in zip(task, results):
                    done(trial, result)
            if broken:
                pool.shutdown(wait=False, cancel_futures=True)
                pool = None
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)


def run_ray(tasks, workers, data, device, done, address=None):
    """Run tasks (an iterator of lists of trials, ``run_population``) as Ray tasks (one CPU
    each), at most ``workers`` at a time, on a local Ray instance or the cluster at ``address``."""
    try:
        import ray
    except ImportError:
        raise SignsError("backend 'ray' needs Ray: pip install 'ray[tune]'", argument="backend") from None
    started = not ray.is_initialized()
    if started:
        ray.init(address=address, num_cpus=None if address else workers, include_dashboard=False,
                 log_to_driver=False, runtime_env={"env_vars": {"TF_CPP_MIN_LOG_LEVEL": "3"}})
    try:
        remote = ray.remote(num_cpus=1, max_retries=0)(run_population)
        data_ref = ray.put(data)  # one copy in the object store, not one per task
        running, more = {}, True
        while True:
            while more and len(running) < workers:
                task = next(tasks, None)
                if task is None:
                    more = False
                else:
                    running[remote.remote(task, data_ref, 1, device)] = task
            if not running:
                break
            ready, _ = ray.wait(list(running), num_returns=1)
            task = running.pop(ready[0])
            try:
                results = ray.get(ready[0])
            except ray.exceptions.RayError as e:  # the worker died, or the task could not run
                results = [Result("failed", reason=f"ray worker failed ({type(e).__name__}: "
                                                   f"{str(e).splitlines()[0]})", lost=True)] * len(task)
            for trial, result in zip(task, results):
                done(trial, result)
    finally:
        if started:
            ray.shutdown()
