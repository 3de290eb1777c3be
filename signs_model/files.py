"""Atomic writes: every file lands whole or not at all (temp file in the same folder + rename)."""
import csv
import io
import json
import os
import signal
from pathlib import Path

import numpy as np


def atomic_write_bytes(path, data):
    path = Path(path)
    tmp = path.with_name(f".tmp-{os.getpid()}-{path.name}")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
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
