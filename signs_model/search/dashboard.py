"""A search's study in the browser: optuna-dashboard (history, parameter importances,
parallel coordinates, the intermediate values of pruned trials) on its database.

``signs tune --out DIR`` keeps its trials in ``DIR/study.db`` (SQLite) unless it was
given another storage URL; either one can be served::

    serve("searches/lr")                                 # the folder of a search
    serve("postgresql://user@dbhost/signs", port=8081)   # a study shared by several machines

Optuna and optuna-dashboard are imported when a dashboard starts, not with the package.
"""
import errno
import socket
from pathlib import Path

from . import database
from ..errors import SignsError, check_int


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
    db = Path(text) / database.STUDY_FILE
    if not db.is_file():
        raise SignsError(f"no study in {text} (expected {db}: run signs tune --out {text} first)")
    return f"sqlite:///{db.resolve()}"


def open_storage(target):
    """The Optuna storage of ``target`` (see ``storage_url``), checked as ``signs tune``
    checks it (``database.open_storage``: one line for a malformed or unreachable URL, a
    wrong password, a file that is not a study); a missing SQLite file is refused rather
    than created."""
    from sqlalchemy.engine import make_url

    url = storage_url(target)
    try:
        parsed = make_url(url)
    except Exception:  # database.open_storage says what is wrong with it
        parsed = None
    if parsed is not None and parsed.get_backend_name() == "sqlite" and parsed.database \
            and parsed.database != ":memory:" and not Path(parsed.database).is_file():
        raise SignsError(f"no database file {parsed.database} (from {url})")
    try:
        return database.open_storage(url, heartbeat=False)
    except SignsError as e:  # the target is no --storage flag here
        raise SignsError(str(e)) from None


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
