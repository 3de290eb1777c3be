"""A throwaway PostgreSQL 15 server for the tests that share a study between processes.

``start()`` makes a cluster in a new folder of /tmp (``initdb`` as the ``postgres``
user when the tests run as root, as on CI: pytest's own temp folders are closed
to other users), starts it on a free port of
127.0.0.1 with password authentication, creates the database ``signs`` for
user ``signs`` (password ``signs``), and returns a ``Server``; ``stop()`` ends it
and removes the folder.
"""
import os
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))
USER = PASSWORD = DATABASE = "signs"


@dataclass
class Server:
    folder: Path
    port: int

    @property
    def url(self):
        return f"postgresql://{USER}:{PASSWORD}@127.0.0.1:{self.port}/{DATABASE}"

    def stop(self):
        _run(BIN / "pg_ctl", "-D", self.folder / "data", "-m", "immediate", "stop", check=False)
        shutil.rmtree(self.folder, ignore_errors=True)


def available():
    """Why no server can start here (a str), or None."""
    if not (BIN / "initdb").is_file():
        return f"no PostgreSQL binaries in {BIN} (apt-get install postgresql-15, or set PG_BIN)"
    return None


def _as_postgres():
    if os.geteuid() != 0:
        return {}
    import pwd
    pw = pwd.getpwnam("postgres")

    def drop():
        os.setgid(pw.pw_gid)
        os.setuid(pw.pw_uid)
    return {"preexec_fn": drop}


def _run(*args, check=True, **kw):
    return subprocess.run([str(a) for a in args], capture_output=True, text=True, check=check,
                          timeout=120, **_as_postgres(), **kw)


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start():
    folder = Path(tempfile.mkdtemp(prefix="signs-pg-"))
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
    data, pwfile = folder / "data", folder / "pw"
    pwfile.write_text("admin\n")
    if os.geteuid() == 0:
        shutil.chown(pwfile, "postgres", "postgres")
    _run(BIN / "initdb", "-D", data, "-U", "postgres", "--pwfile", pwfile, "--auth", "scram-sha-256",
         "-E", "UTF8", "--no-sync")
    port = _free_port()
    _run(BIN / "pg_ctl", "-D", data, "-l", folder / "log", "-w", "-t", "60", "-o",
         f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off", "start")
    server = Server(folder, port)
    env = {**os.environ, "PGPASSWORD": "admin"}
    for sql in (f"CREATE USER {USER} PASSWORD '{PASSWORD}'", f"CREATE DATABASE {DATABASE} OWNER {USER}"):
        _run(BIN / "psql", "-h", "127.0.0.1", "-p", port, "-U", "postgres", "-d", "postgres",
             "-c", sql, env=env)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return server
        time.sleep(0.2)
    server.stop()
    raise RuntimeError(f"PostgreSQL did not answer on port {port}")
