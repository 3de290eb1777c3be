"""Porting course-era code: a learner's TF 1.x notebook or script, rewritten to run here, and run.

A deeplearning.ai notebook written for TensorFlow 1.x stops on TensorFlow 2 at
a few kinds of lines. `port_file` rewrites those, line by line, and leaves
every other line as it was:

======================================================  ==================================================
course line                                             becomes
======================================================  ==================================================
``import tensorflow as tf``                             ``import signs_model.tf1 as tf``
``from tensorflow.contrib.layers import flatten``       ``from signs_model.contrib.layers import flatten``
``from tf_utils import load_dataset, predict``          ``from signs_model.tf_utils import load_dataset, predict``
``ndimage.imread(fname, flatten=False)``                ``imread(fname, flatten=False)``
``scipy.misc.imresize(image, size=(64,64))``            ``imresize(image, size=(64,64))``
======================================================  ==================================================

and adds ``from signs_model.course_image import imread, imresize`` after the
first SciPy import. Lines that will still fail (a part of ``tf.contrib`` that
is not provided, a SciPy function removed with no drop-in here) are reported
as notes saying what to use instead. `run_ported` then runs the result headless.
"""
import os
import re
import subprocess
import sys
import time
from pathlib import Path

from .contrib import PROVIDED, missing
from .errors import SignsError, check_int
from .files import atomic_write_bytes

SUFFIXES = (".ipynb", ".py")
IMAGE_IMPORT = "from signs_model.course_image import imread, imresize"
IMAGE_FUNCTIONS = {"imread", "imresize"}
# SciPy's other removed image functions, and what does their job now
SCIPY_REMOVED = {"imsave": "PIL.Image.fromarray(array).save(path)",
                 "toimage": "PIL.Image.fromarray(array)",
                 "fromimage": "np.asarray(image)",
                 "imrotate": "np.asarray(PIL.Image.fromarray(array).rotate(angle))",
                 "bytescale": "np.uint8(255 * (a - a.min()) / (a.max() - a.min()))",
                 "imshow": "matplotlib.pyplot.imshow(array)"}

# (pattern, replacement), tried on each line in this order
REWRITES = (
    # TensorFlow: TF 1.x's namespace plus tf.contrib.layers, in graph mode
    (re.compile(r"^(\s*)import tensorflow(?:\.compat\.v1)? as (\w+)(\s*(?:#.*)?)$"),
     r"\1import signs_model.tf1 as \2\3"),
    (re.compile(r"^(\s*)import tensorflow(\s*(?:#.*)?)$"), r"\1import signs_model.tf1 as tensorflow\2"),
    # the course helper: this package's, not the TF 1.x tf_utils.py lying beside the notebook
    (re.compile(r"^(\s*)from tf_utils import\b"), r"\1from signs_model.tf_utils import"),
    (re.compile(r"^(\s*)import tf_utils(\s*(?:#.*)?)$"), r"\1import signs_model.tf_utils as tf_utils\2"),
    # SciPy's removed image functions, called through their module
    (re.compile(r"(?<![\w.])(?:scipy\.)?(?:ndimage|misc)\.(imread|imresize)\("), r"\1("),
)
CONTRIB_IMPORT = re.compile(r"^\s*(?:from\s+tensorflow\.(contrib[\w.]*)\s+import\s+([^#]*)"
                            r"|import\s+tensorflow\.(contrib[\w.]*))")
CONTRIB_USE = re.compile(r"(?<![\w])\w+\.contrib\.(\w+)(?:\.(\w+))?")
SCIPY_IMPORT = re.compile(r"^\s*from\s+scipy\.(?:misc|ndimage)\s+import\s+([^#]*)")
SCIPY_CALL = re.compile(r"(?<![\w.])(?:scipy\.)?misc\.(\w+)\(")


def _names(imported):
    """The names of ``a, b as c, (d)`` in an import line."""
    return [n.split()[0] for n in imported.replace("(", "").replace(")", "").split(",") if n.strip()]


def _unprovided(path):
    """None if ``tf.<path>`` (``contrib.layers.flatten``) is provided here, else why not."""
    parts = path.split(".")
    if len(parts) == 1:  # tf.contrib itself
        return None
    if parts[1] != "layers":
        return str(missing(".".join(parts[:2])))
    if len(parts) > 2 and parts[2] not in PROVIDED:
        return str(missing(".".join(parts[:3])))
    return None


def _removed(name):
    return f"scipy.misc.{name} was removed in SciPy 1.2; use {SCIPY_REMOVED[name]} instead"


def port_line(line):
    """One line rewritten: (new line, notes). Notes say why the line will still fail."""
    m = CONTRIB_IMPORT.match(line)
    if m:
        paths = ([f"{m.group(1)}.{n}" for n in _names(m.group(2))] if m.group(1) else [m.group(3)])
        notes = [why for why in map(_unprovided, paths) if why]
        return (line, notes[:1]) if notes else (line.replace("tensorflow.contrib", "signs_model.contrib", 1), [])
    m = SCIPY_IMPORT.match(line)
    if m:
        names = set(_names(m.group(1)))
        if names <= IMAGE_FUNCTIONS:
            return re.sub(r"scipy\.(?:misc|ndimage)", "signs_model.course_image", line, count=1), []
        notes = [_removed(name) for name in sorted(names & set(SCIPY_REMOVED))]
        if names & IMAGE_FUNCTIONS:
            notes.append(f"SciPy 1.2 removed {' and '.join(sorted(names & IMAGE_FUNCTIONS))}; import "
                         f"from signs_model.course_image instead, on a line of its own")
        return line, notes
    for pattern, replacement in REWRITES:
        line = pattern.sub(replacement, line)
    notes = [why for a, b in CONTRIB_USE.findall(line)
             if (why := _unprovided(f"contrib.{a}" + (f".{b}" if b else "")))]
    notes += [_removed(name) for name in SCIPY_CALL.findall(line) if name in SCIPY_REMOVED]
    return line, notes


def port_blocks(blocks):
    """Rewrite blocks of source (a notebook's code cells, or a file as one block) line by line.

    Returns:
        (new blocks, changes, notes). changes: (block index, line number in the new
        block counting from 1, old line or None for an added one, new line); notes:
        (block index, line number, text), one per line that will still fail.
    """
    lines = [block.split("\n") for block in blocks]
    changes, notes = [], []
    for b, block in enumerate(lines):
        for i, old in enumerate(block):
            block[i], why = port_line(old)
            if block[i] != old:
                changes.append((b, i + 1, old, block[i]))
            notes += [(b, i + 1, text) for text in why]
    called = any(re.search(r"(?:ndimage|misc)\.(?:imread|imresize)\(", old) for _, _, old, _ in changes)
    if called and not any(line.strip() == IMAGE_IMPORT for block in lines for line in block):
        b, at, indent = _import_place(lines, changes)
        lines[b].insert(at, indent + IMAGE_IMPORT)
        changes = [(cb, n + 1 if cb == b and n > at else n, old, new) for cb, n, old, new in changes]
        notes = [(nb, n + 1 if nb == b and n > at else n, text) for nb, n, text in notes]
        changes = sorted(changes + [(b, at + 1, None, indent + IMAGE_IMPORT)], key=lambda c: c[:2])
    return ["\n".join(block) for block in lines], changes, notes


def _import_place(lines, changes):
    """Where the imread/imresize import goes: (block, index, indentation). After the first
    SciPy import above the first call, else before the first import of the calling block."""
    first_call = min((b, n) for b, n, old, _ in changes if old and re.search(r"(?:ndimage|misc)\.im", old))
    for b, block in enumerate(lines):
        for i, line in enumerate(block):
            if (b, i + 1) < first_call and re.match(r"\s*(?:import\s+scipy\b|from\s+scipy\b)", line):
                return b, i + 1, line[:len(line) - len(line.lstrip())]
    b = first_call[0]
    first = next((i for i, line in enumerate(lines[b]) if re.match(r"(?:import|from)\s", line)
                  and not line.startswith("from __future__")), 0)
    return b, first, ""


def first_line(source, width=60):
    """The first line of code that is not blank or a comment, cut to ``width`` characters."""
    lines = [s.strip() for s in source.splitlines() if s.strip() and not s.strip().startswith("#")]
    line = lines[0] if lines else ""
    return line if len(line) <= width else line[:width - 3] + "..."


def default_out(source):
    """``course.ipynb`` -> ``course_tf2.ipynb``, beside it."""
    source = Path(source)
    return source.with_name(f"{source.stem}_tf2{source.suffix}")


def _check_paths(source, out):
    source = Path(source)
    if source.suffix not in SUFFIXES:
        raise SignsError(f"{source}: expected a notebook (.ipynb) or a Python file (.py), "
                         f"got {source.suffix or 'a name without extension'}")
    if not source.is_file():
        raise SignsError(f"{source}: no such file; expected a course notebook (.ipynb) or "
                         f"Python file (.py)")
    out = Path(out) if out is not None else default_out(source)
    if out.suffix != source.suffix:
        raise SignsError(f"{out}: expected a {source.suffix} file like the input, got "
                         f"{out.suffix or 'a name without extension'}", argument="out")
    if out.resolve() == source.resolve() or (out.exists() and out.samefile(source)):
        raise SignsError(f"{out} is the input file; port never overwrites its input: expected "
                         f"another name (default {default_out(source).name})", argument="out")
    return source, out


def _read_notebook(path):
    import nbformat

    try:
        return nbformat.read(path, as_version=4)
    except Exception as e:  # JSON, schema or encoding: all mean "not a notebook we can read"
        reason = (str(e).splitlines() or [""])[0][:120]
        raise SignsError(f"{path}: not a readable notebook ({type(e).__name__}: {reason}); "
                         f"expected a Jupyter .ipynb file") from None


def port_file(source, out=None):
    """Write ``out`` (default ``<source>_tf2.<ext>``): ``source`` with its course-era lines rewritten.

    The input is never overwritten; ``out`` is replaced if it exists (atomically).
    Args:
        source: a .ipynb notebook or a .py file.
        out: same extension as source.
    Returns:
        dict: source, out, changes [{where, old, new}] (old None: an added line),
        notes [{where, note}]: lines that will still fail, and what to use instead.
        ``where`` is "code cell 3, line 2" (cells counted as Jupyter's In [n] after Run All)
        or "line 12", in the written file.
    """
    import nbformat

    source, out = _check_paths(source, out)
    if source.suffix == ".ipynb":
        nb = _read_notebook(source)
        cells = [c for c in nb.cells if c.cell_type == "code"]
        blocks, changes, notes = port_blocks([c.source for c in cells])
        for cell, block in zip(cells, blocks):
            cell.source = block
        where = "code cell {b}, line {n}"
        text = nbformat.writes(nb)
    else:
        try:
            original = source.read_text(encoding="utf-8")
        except UnicodeDecodeError as e:
            raise SignsError(f"{source}: not UTF-8 text ({e.reason} at byte {e.start}); expected "
                             f"a Python file") from None
        (text,), changes, notes = port_blocks([original])
        where = "line {n}"
    atomic_write_bytes(out, text.encode("utf-8"))
    return {"source": str(source), "out": str(out),
            "changes": [{"where": where.format(b=b + 1, n=n), "old": old, "new": new}
                        for b, n, old, new in changes],
            "notes": [{"where": where.format(b=b + 1, n=n), "note": note} for b, n, note in notes]}


def run_ported(path, timeout=600):
    """Run a ported notebook (its outputs saved into it) or script, headless, in its folder.

    Args:
        timeout: seconds each notebook cell may run (a script: the whole script).
    Returns:
        dict: path, seconds, failure: None if everything ran, else one line saying
        which cell (or script line) failed and how.
    """
    check_int("timeout", timeout)
    path = Path(path)
    if path.suffix not in SUFFIXES or not path.is_file():
        raise SignsError(f"{path}: no such notebook (.ipynb) or Python file (.py) to run")
    start = time.monotonic()
    if path.suffix == ".ipynb":
        import nbformat

        from .notebooks import execute

        nb = _read_notebook(path)
        try:
            failed = execute(nb, path.parent, timeout)
        finally:
            atomic_write_bytes(path, nbformat.writes(nb).encode("utf-8"))
        if failed:
            index, what = failed
            number = sum(c.cell_type == "code" for c in nb.cells[:index + 1])
            failed = f"{path}: code cell {number} ({first_line(nb.cells[index].source)}) {what}"
    else:
        failed = _run_script(path, timeout)
    return {"path": str(path), "seconds": time.monotonic() - start, "failure": failed or None}


def _run_script(path, timeout):
    """Run ``python path`` in its folder (its prints pass through); None, or what failed."""
    env = {**os.environ, "MPLBACKEND": "Agg"}  # plt.show() returns instead of waiting for a window
    try:
        done = subprocess.run([sys.executable, path.name], cwd=path.parent.resolve(), env=env,
                              stderr=subprocess.PIPE, text=True, errors="replace", timeout=timeout)
    except subprocess.TimeoutExpired:
        return f"{path}: ran past the time limit of {timeout} s"
    if done.returncode == 0:
        return None
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    frames = [int(n) for f, n in re.findall(r'File "([^"]*)", line (\d+)', done.stderr)
              if Path(f).name == path.name]
    what = lines[-1].strip() if lines else f"exit status {done.returncode}"
    if frames:  # the top-level statement that failed, as a notebook names its cell
        code = path.read_text(encoding="utf-8", errors="replace").split("\n")[frames[0] - 1]
        return f"{path}: line {frames[0]} ({first_line(code)}) {what}"
    return f"{path}: {what}"
