"""Atomic writes: every file lands whole or not at all (temp file in the same folder + rename);
and one owner per folder (``owned``: a lock that dies with its process).
"""
import contextlib
import csv
import fcntl
import io
import itertools
import json
import os
import signal
import threading
from pathlib import Path

import numpy as np

from .errors import SignsError

LOCK = ".lock"  # the lock file ``owned`` holds in a folder: it stays; holding it is the lock
_counter = itertools.count()  # next() on it is atomic in CPython: one number per call


def temp_path(path):
    """A temp name beside ``path``, unique per process, thread and call: ``.tmp-<pid>-<n>-<name>``.

    Two processes or threads writing the same file each write their own temp
    file; the last rename wins, whole.
    """
    path = Path(path)
    unique = f"{os.getpid()}-{threading.get_ident()}-{next(_counter)}"
    return path.with_name(f".tmp-{unique}-{path.name}")


@contextlib.contextmanager
def owned(folder, what="folder"):
    """Own ``folder`` (it must exist) for the block: a second owner is refused, naming the first.

    The lock is ``fcntl.flock`` on ``folder/.lock``: the kernel drops it when the
    holder's process ends, however it ends (``kill -9`` included), so it is
    never stranded. The holder writes its pid into the file for the refusal to name.
    A second ``owned`` of the same folder is refused in the same process too.

    Args:
        what: the folder's role in the refusal ("run folder", "search folder").
    Yields:
        the folder as a Path.
    Raises:
        SignsError: another process (or another ``owned`` here) holds it.
    """
    folder = Path(folder)
    try:
        fd = os.open(folder / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as e:
        raise SignsError(f"cannot write the {what} {folder} ({e.strerror}); expected a folder "
                         f"this user can write") from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "(starting)"
            raise SignsError(f"{what} {folder} is in use by process {holder}; expected a folder "
                             f"no other command is writing (wait for it to end, or choose "
                             f"another folder)") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield folder
    finally:
        os.close(fd)  # closing the last descriptor releases the lock


def atomic_write_bytes(path, data):
    path = Path(path)
    tmp = temp_path(path)
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
    except BaseException:
        tmp.unlink(missing_ok=True)  # a full disk leaves no half file behind
        raise
    failpoint(f"replace-{path.name}")
    os.replace(tmp, path)
    return path


def failpoint(name):
    """Die here, as ``kill -9`` would, if $SIGNS_FAILPOINT names this point.

    The fault tests use it to cut a run at exact places (after params.json,
    after a checkpoint, between a temp file and its rename) and check that
    what is left on disk resumes or restarts cleanly.
    """
    if os.environ.get("SIGNS_FAILPOINT") == name:
        os.kill(os.getpid(), signal.SIGKILL)


def write_json(path, obj):
    return atomic_write_bytes(path, (json.dumps(obj, indent=2, sort_keys=True) + "\n").encode())


def read_json(path):
    with open(path) as f:
        return json.load(f)


def write_csv(path, header, rows):
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return atomic_write_bytes(path, buf.getvalue().encode())


def read_csv(path):
    """Rows of a CSV file as dicts of strings."""
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def write_npz(path, arrays):
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return atomic_write_bytes(path, buf.getvalue())
