"""A search's records in an Optuna study: one database that every process and machine shares.

``signs tune`` keeps its trials in an Optuna study (an SQLite file in the search
folder by default, or a PostgreSQL database that several machines reach). The
study decides who trains what; this module is the thin layer between it and
the search:

* ``open_study``: the search's study in a storage that ``database.open_storage``
  checked (heartbeats on: a dead process's trials are failed and retried).
* ``check_plan``: a study holds one search (space, dev split, base config,
  sampler); a second command with another one is refused, never mixed in.
* ``plan_round``: round r's trials enqueued once, under a lock that spans
  processes (``_plan_lock``), each tagged with its (round, index); with the
  lecture's sampler their values are fixed when planned (trial k of round r is
  ``space.sample(.., seed + r)[k]``, whoever trains it), with TPE they are
  sampled when a process claims the trial.
* ``claim``: WAITING trials taken atomically (one process gets each).
* ``Heartbeat``: a thread that keeps this process's claimed trials alive.
* ``rows``: the study as results rows, one per (round, index), its latest attempt.

Values are stored in the user's terms (``beta1``, not ``1 - beta1``); a layer
list is stored as text (``16-32-64``, ``none``).

Example:
    >>> encode((16, 32, 64)), encode(()), decode("16-32-64", (8,)), encode(0.5)
    ('16-32-64', 'none', (16, 32, 64), 0.5)
"""
import contextlib
import fcntl
import hashlib
import os
import socket
import threading

from ..errors import SignsError
from .database import HEARTBEAT_S, shown, storage_error

SAMPLERS = ("random", "tpe")
PLAN = "signs_search"  # the study's user attribute that describes its search


def encode(value):
    """A sampled value as the study stores it: a layer list as text, the rest as is."""
    if isinstance(value, (tuple, list)):
        return "-".join(map(str, value)) or "none"
    return value


def decode(value, like):
    """The value ``encode`` stored, back in the type of ``like`` (a value of the same axis)."""
    if isinstance(like, (tuple, list)) and isinstance(value, str):
        return () if value == "none" else tuple(int(v) for v in value.split("-"))
    return value


def open_study(storage, name, sampler="random", seed=0, pruner=None):
    """Create or load the study ``name`` in ``storage`` (an RDBStorage).

    Args:
        sampler: "random" (the lecture's: values fixed when planned) or "tpe" (Optuna's TPE).
        pruner: an Optuna pruner (``pruning.Asha.pruner()``), or None: no pruning.
    """
    import optuna
    import sqlalchemy

    if sampler not in SAMPLERS:
        raise SignsError(f"sampler must be one of {', '.join(SAMPLERS)}, got {sampler!r}",
                         argument="sampler")
    chosen = (optuna.samplers.TPESampler(seed=seed) if sampler == "tpe"
              else optuna.samplers.RandomSampler(seed=seed))
    try:
        return optuna.create_study(storage=storage, study_name=name, direction="maximize",
                                   sampler=chosen, pruner=pruner or optuna.pruners.NopPruner(),
                                   load_if_exists=True)
    except sqlalchemy.exc.SQLAlchemyError as e:
        raise storage_error(storage.url, e) from None


def check_plan(study, storage_url, plan):
    """Record what search ``study`` holds, or refuse one that holds another.

    Args:
        plan: JSON-able dict: the space, the dev split, the base config, the sampler and seed.
    """
    with _plan_lock(study, storage_url):
        held = study.user_attrs.get(PLAN)
        if held is None:
            study.set_user_attr(PLAN, plan)
            return
    for key in plan:
        if held.get(key) != plan[key]:
            what = {"split": "dev split", "space": "search space",
                    "base_config": "base configuration"}.get(key, key)
            raise SignsError(f"study {study.study_name!r} in {shown(storage_url)} holds a search "
                             f"with another {what} ({held.get(key)} there, {plan[key]} here); "
                             f"use another study (--study) or the same settings", argument="study")


@contextlib.contextmanager
def _plan_lock(study, storage_url):
    """Held while a process plans a round, so two never enqueue the same trial.

    PostgreSQL: a session-level advisory lock (released if the process dies);
    SQLite (one machine): an fcntl lock on a file beside the database.
    """
    import sqlalchemy
    from sqlalchemy.engine import make_url

    url = make_url(storage_url)
    key = int.from_bytes(hashlib.sha256(study.study_name.encode()).digest()[:8], "big", signed=True)
    if url.get_backend_name() == "sqlite":
        with open(f"{url.database}.plan-lock", "a") as f:
            fcntl.flock(f, fcntl.LOCK_EX)  # released when the file closes, also on kill -9
            yield
        return
    engine = sqlalchemy.create_engine(storage_url, poolclass=sqlalchemy.pool.NullPool)
    try:
        with engine.connect() as conn:
            conn.execute(sqlalchemy.text("SELECT pg_advisory_lock(:k)"), {"k": key})
            try:
                yield
            finally:
                conn.execute(sqlalchemy.text("SELECT pg_advisory_unlock(:k)"), {"k": key})
    finally:
        engine.dispose()


def plan_round(study, storage_url, r, space, trials, seed, sampler):
    """Enqueue round ``r``'s trials 0 .. trials-1 that the study lacks; returns the round's space.

    The first process to plan a round stores its space in the study; the others
    use that one (a zoomed space depends on results they all read alike).
    """
    from .space import SearchSpace

    with _plan_lock(study, storage_url):
        key = f"round{r}"
        stored = study.user_attrs.get(key)
        if stored is None:
            study.set_user_attr(key, space.to_dict())
        else:
            space = SearchSpace.from_dict(stored)
        have = {t.user_attrs.get("index") for t in study.get_trials(deepcopy=False)
                if t.user_attrs.get("round") == r}
        drawn = space.sample(trials, seed=seed + r) if sampler == "random" else None
        for k in range(trials):
            if k not in have:
                fixed = {n: encode(v) for n, v in drawn[k].items()} if drawn else {}
                study.enqueue_trial(fixed, user_attrs={"round": r, "index": k})
    return space


def claim(study, storage, trial_ids):
    """Take the WAITING trials ``trial_ids`` for this process (its user attribute "process"
    says host:pid); returns the optuna.Trial of each one it got (another process may have
    taken some first)."""
    import optuna
    got = []
    for trial_id in trial_ids:
        try:
            if not storage.set_trial_state_values(trial_id, state=optuna.trial.TrialState.RUNNING):
                continue
        except optuna.exceptions.UpdateFinishedTrialError:
            continue
        storage.record_heartbeat(trial_id)
        storage.set_trial_user_attr(trial_id, "process", f"{socket.gethostname()}:{os.getpid()}")
        got.append(optuna.Trial(study, trial_id))
    return got


def suggest(trial, space):
    """Record (and, with TPE, sample) ``trial``'s values of every axis of ``space``; returns
    them in the user's terms (a layer list as a tuple)."""
    values = {}
    for name, p in space.items():
        if p.scale == "choice":
            raw = trial.suggest_categorical(name, [encode(v) for v in p.values])
            values[name] = decode(raw, p.values[0])
        elif p.scale == "int":
            values[name] = trial.suggest_int(name, p.low, p.high)
        else:
            values[name] = trial.suggest_float(name, p.low, p.high, log=p.scale == "log")
    return values


def give_back(study, storage, trials):
    """Fail this process's unfinished ``trials`` (Ctrl-C) and queue their retries at once."""
    import optuna
    callback = storage.get_heartbeat_stale_trial_callback()
    for trial in trials:
        try:
            if storage.set_trial_state_values(trial._trial_id, state=optuna.trial.TrialState.FAIL):
                storage.set_trial_user_attr(trial._trial_id, "reason", "interrupted")
                if callback is not None:
                    callback(study, storage.get_trial(trial._trial_id))
        except optuna.exceptions.UpdateFinishedTrialError:
            pass


def fail_stale(study):
    """Fail (and queue a retry of) every running trial whose process stopped its heartbeat."""
    import optuna
    optuna.storages.fail_stale_trials(study)


class Heartbeat:
    """A daemon thread recording a heartbeat for this process's running trials.

    Use as a context manager; ``add``/``discard`` trial ids as they start and end.
    """

    def __init__(self, storage):
        self.storage, self.ids = storage, set()
        self._lock, self._stop = threading.Lock(), threading.Event()
        self._thread = threading.Thread(target=self._beat, name="study-heartbeat", daemon=True)

    def add(self, trial_id):
        with self._lock:
            self.ids.add(trial_id)

    def discard(self, trial_id):
        with self._lock:
            self.ids.discard(trial_id)

    def _beat(self):
        while not self._stop.wait(HEARTBEAT_S):
            with self._lock:
                ids = list(self.ids)
            for trial_id in ids:
                try:
                    self.storage.record_heartbeat(trial_id)
                except Exception:  # a database hiccup: the next beat tries again
                    pass

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(timeout=2 * HEARTBEAT_S)


def latest(study):
    """Each planned (round, index)'s latest attempt (the FrozenTrial with the highest number)."""
    found = {}
    for t in study.get_trials(deepcopy=False):
        a = t.user_attrs
        if "round" in a:
            key = (a["round"], a["index"])
            if key not in found or t.number > found[key].number:
                found[key] = t
    return found


def ended(trial):
    """True if the attempt ``trial`` (a FrozenTrial) is over."""
    return trial.state.is_finished()
