"""A search's study in the browser: optuna-dashboard (history, parameter importances,
parallel coordinates, the intermediate values of pruned trials) on its database.

``signs tune --out DIR`` keeps its trials in ``DIR/study.db`` (SQLite) unless it was
given another storage URL; either one can be served::

    serve("searches/lr")                                 # the folder of a search
    serve("postgresql://user@dbhost/signs", port=8081)   # a study shared by several machines

Optuna and optuna-dashboard are imported when a dashboard starts, not with the package.
"""
import errno
import re
import socket
from pathlib import Path

from .errors import SignsError, check_int

STUDY_FILE = "study.db"  # the SQLite study a search writes in its folder by default


def storage_url(target):
    """The storage URL of ``target``: a database URL as given, or ``sqlite:///DIR/study.db``.

    Args:
        target: a search folder (str or Path) holding ``study.db``, or a SQLAlchemy URL
            (``sqlite:///...``, ``postgresql://...``), recognised by its ``://``.

    Returns:
        str: the URL (a folder's database by its absolute path).

    >>> storage_url("postgresql://user@dbhost/signs")
    'postgresql://user@dbhost/signs'
    """
    text = str(target)
    if "://" in text:
        return text
    db = Path(text) / STUDY_FILE
    if not db.is_file():
        raise SignsError(f"no study in {text} (expected {db}: run signs tune --out {text} first)")
    return f"sqlite:///{db.resolve()}"


def _shown(url):
    """``url`` with its password (``user:PASSWORD@``) as ``***``, for messages."""
    return re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", url)


def _first_line(e):
    """The first line of the driver's message (SQLAlchemy appends SQL and links to its own)."""
    e = getattr(e, "orig", None) or e
    return (str(e).strip() or type(e).__name__).splitlines()[0]


def _malformed(url, e):
    return SignsError(f"malformed storage URL {_shown(url)}: {_first_line(e)} (expected "
                      f"sqlite:///PATH or postgresql://USER@HOST/DB)")


def open_storage(target):
    """The Optuna storage of ``target`` (see ``storage_url``), checked to hold a study database.

    Opened as optuna-dashboard opens one: never creating tables nor migrating a schema.
    Raises SignsError (one line, the password hidden) for a malformed or unreachable URL,
    a driver that is not installed, a missing SQLite file or a database that Optuna did
    not write.
    """
    url = storage_url(target)
    import sqlalchemy
    from sqlalchemy.exc import ArgumentError, SQLAlchemyError

    try:
        parsed = sqlalchemy.engine.make_url(url)
    except (ArgumentError, ValueError) as e:
        raise _malformed(url, e) from None
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:") \
            and not Path(parsed.database).is_file():
        # SQLite would create an empty file: a typo must not leave one behind
        raise SignsError(f"no database file {parsed.database} (from {url})")
    try:
        engine = sqlalchemy.create_engine(url)
    except ImportError as e:  # postgresql:// means psycopg (3) to SQLAlchemy 2.1
        raise SignsError(f"no database driver for {_shown(url)}: {e} (install it, or name an "
                         f"installed one in the URL: postgresql+DRIVER://...)") from None
    except (SQLAlchemyError, ValueError) as e:
        raise _malformed(url, e) from None
    try:
        with engine.connect() as connection:
            tables = set(sqlalchemy.inspect(connection).get_table_names())
    except SQLAlchemyError as e:
        raise SignsError(f"cannot open {_shown(url)}: {_first_line(e)}") from None
    finally:
        engine.dispose()
    if not {"studies", "trials", "version_info"} <= tables:
        raise SignsError(f"{_shown(url)} is not an Optuna study database (no studies, trials "
                         f"and version_info tables; signs tune writes one)")
    import optuna

    return optuna.storages.RDBStorage(url, skip_compatibility_check=True,
                                      skip_table_creation=True)


def open_server(target, host="127.0.0.1", port=8080):
    """A bound (not yet serving) HTTP server of optuna-dashboard's app on ``target``'s study.

    Returns:
        wsgiref.simple_server.WSGIServer: call ``serve_forever()``; ``server_address`` is
        (host, port) as bound (port 0 picks a free one).
    """
    check_int("port", port, low=0)
    if port > 65535:
        raise SignsError(f"port must be at most 65535, got {port}", argument="port")
    storage = open_storage(target)
    from socketserver import ThreadingMixIn
    from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

    import optuna_dashboard

    class Server(ThreadingMixIn, WSGIServer):  # a browser opens several connections at once
        daemon_threads = True

    class QuietHandler(WSGIRequestHandler):
        def log_message(self, *args):  # one line per request would bury the address
            pass

    try:
        return make_server(host, port, optuna_dashboard.wsgi(storage), server_class=Server,
                           handler_class=QuietHandler)
    except socket.gaierror as e:
        raise SignsError(f"unknown host {host!r}: {e.strerror}", argument="host") from None
    except OSError as e:
        if e.errno == errno.EADDRNOTAVAIL:
            raise SignsError(f"cannot serve on {host}: not an address of this machine",
                             argument="host") from None
        why = {errno.EADDRINUSE: "is in use (pick another, or 0 for a free one)",
               errno.EACCES: "needs more rights (ports below 1024 are the system's)"}
        reason = why.get(e.errno, f"cannot be bound: {e.strerror}")
        raise SignsError(f"port {port} on {host} {reason}", argument="port") from None


def serve(target, host="127.0.0.1", port=8080, on_ready=None):
    """Serve optuna-dashboard on ``target``'s study until Ctrl-C (then return quietly).

    Args:
        target: a search folder or a storage URL (see ``storage_url``).
        host, port: where to listen (port 0 picks a free one).
        on_ready: called with the address (``http://HOST:PORT/``) once the port is bound.
    """
    server = open_server(target, host, port)
    bound_host, bound_port = server.server_address[:2]
    try:
        if on_ready is not None:
            on_ready(f"http://{bound_host}:{bound_port}/")
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
