"""The database that holds a search's study: an SQLite file or a PostgreSQL server, checked once.

``open_storage`` gives an Optuna storage for a URL, or one line naming what is
wrong: a malformed URL, an unsupported scheme, a missing folder, a file that is
not a study, an unreachable server, a wrong password. Heartbeats are on for the
process that runs a search, so the trial of a process that died (kill -9, a
lost machine) is failed after ``GRACE_S`` and retried (``MAX_RETRIES``).
"""
import contextlib
import warnings
from pathlib import Path

from ..errors import SignsError

HEARTBEAT_S = 4   # a process records a heartbeat for each of its running trials this often
GRACE_S = 20      # a running trial without a heartbeat this long is failed and retried
MAX_RETRIES = 3   # retries of a trial whose process died, before it stays failed
SCHEMES = ("sqlite", "postgresql")
STUDY_FILE = "study.db"  # a search folder's own study (SQLite), unless another storage is named


def default_storage(out_dir):
    """The study storage of a search folder: ``sqlite:///OUT/study.db``."""
    return f"sqlite:///{Path(out_dir).resolve() / STUDY_FILE}"


def default_name(out_dir):
    """The study's name when none is given: the search folder's name."""
    return Path(out_dir).resolve().name


def shown(url):
    """``url`` with its password hidden, for messages."""
    try:
        from sqlalchemy.engine import make_url
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # not a URL at all: shown as given
        return url


def _quiet():
    """Optuna's experimental-feature and per-trial log lines stay out of users' output."""
    import optuna
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    warnings.filterwarnings("ignore", message=".*Heartbeat of storage.*")
    warnings.filterwarnings("ignore", message=".*already reported.*")
    warnings.filterwarnings("ignore", message=".*Fixed parameter.*")


def _check_sqlite(path):
    """Refuse a SQLite path whose folder is missing, or a file that is not an Optuna study."""
    import sqlite3
    p = Path(path)
    if not p.parent.is_dir():
        raise SignsError(f"no folder {p.parent} for the study database {p}", argument="storage")
    if not p.is_file() or p.stat().st_size == 0:
        return
    try:
        with contextlib.closing(sqlite3.connect(f"file:{p}?mode=ro", uri=True)) as db:
            tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    except sqlite3.DatabaseError as e:
        raise SignsError(f"{p} is not a study database ({e}); expected an SQLite file "
                         f"written by signs tune (Optuna)", argument="storage") from None
    if "studies" not in tables:
        raise SignsError(f"{p} is an SQLite database but not an Optuna study (its tables: "
                         f"{', '.join(sorted(tables)) or 'none'}); choose another file",
                         argument="storage")


def open_storage(url, heartbeat=True):
    """An Optuna RDBStorage on ``url`` (sqlite:///FILE or postgresql://...), checked.

    Args:
        heartbeat: record heartbeats and retry the trials of processes that died
            (the process that runs a search); False for a worker that only reports.
    Raises:
        SignsError: one line naming what is wrong with the URL or the database.
    """
    import optuna
    import sqlalchemy
    from sqlalchemy.engine import make_url

    _quiet()
    try:
        parsed = make_url(url)
    except (sqlalchemy.exc.ArgumentError, ValueError):
        raise SignsError(f"not a database URL: {url!r}; expected sqlite:///FILE or "
                         f"postgresql://USER:PASSWORD@HOST:PORT/DATABASE", argument="storage") from None
    scheme = parsed.get_backend_name()
    if scheme not in SCHEMES:
        raise SignsError(f"unsupported study storage {scheme!r} in {shown(url)}; expected "
                         f"sqlite:///FILE or postgresql://USER:PASSWORD@HOST:PORT/DATABASE",
                         argument="storage")
    if scheme == "sqlite":
        if not parsed.database or parsed.database == ":memory:":
            raise SignsError(f"an SQLite study needs a file: sqlite:///FILE, got {url!r}",
                             argument="storage")
        _check_sqlite(parsed.database)
        connect = {"timeout": 60}
    else:
        connect = {"connect_timeout": 10}
    retry = optuna.storages.RetryHeartbeatStaleTrialCallback(
        max_retry=MAX_RETRIES, inherit_intermediate_values=True)
    try:
        return optuna.storages.RDBStorage(
            url, engine_kwargs={"connect_args": connect},
            heartbeat_interval=HEARTBEAT_S if heartbeat else None,
            grace_period=GRACE_S if heartbeat else None,
            heartbeat_stale_trial_callback=retry if heartbeat else None)
    except ModuleNotFoundError as e:
        raise SignsError(f"no database driver for {shown(url)} ({e}); "
                         'pip install "psycopg[binary]"', argument="storage") from None
    except sqlalchemy.exc.SQLAlchemyError as e:
        raise storage_error(url, e) from None


def storage_error(url, error):
    """One line for a database error: a wrong password, an unreachable server, a bad file."""
    text = str(getattr(error, "orig", None) or error).strip().splitlines()
    first = text[0] if text else type(error).__name__
    if "password authentication failed" in first or "authentication failed" in first:
        return SignsError(f"the study storage {shown(url)} refused the user name or password "
                          f"({first})", argument="storage")
    if "file is not a database" in first:
        return SignsError(f"{shown(url)} is not a study database ({first})", argument="storage")
    return SignsError(f"cannot use the study storage {shown(url)}: {first}", argument="storage")
