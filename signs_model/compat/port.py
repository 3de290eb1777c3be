"""Porting course-era code: a learner's TF 1.x notebook or script, rewritten to run here.

A deeplearning.ai notebook written for TensorFlow 1.x stops on TensorFlow 2 at
a few kinds of lines. `port_file` rewrites those, line by line
(`signs_model.compat.port_rules` holds the rules), and leaves every other line as it was::

    import tensorflow as tf                      ->  import signs_model.tf1 as tf
    from tf_utils import load_dataset, predict   ->  from signs_model.tf_utils import load_dataset, predict
    scipy.misc.imresize(image, size=(64,64))     ->  imresize(image, size=(64,64))

and adds ``from signs_model.course_image import imread, imresize`` after the
first SciPy import when a SciPy image function is called. Lines that will still
fail or will not give TF 1.x's numbers are reported as notes saying what to use
instead. `signs_model.compat.port_folder` does a whole folder; `signs_model.compat.port_run`
runs the result headless.
"""
import re
from pathlib import Path

from ..errors import SignsError
from ..atomic import atomic_write_bytes
from .port_rules import IMAGE_IMPORT, port_line

SUFFIXES = (".ipynb", ".py")
MARK = "signs port: ported from "  # a .py copy's last line, a notebook copy's metadata "signs_port"


def port_blocks(blocks, notebook=True, local=()):
    """Rewrite blocks of source (a notebook's code cells, or a file as one block) line by line.

    ``notebook`` and ``local``: see `signs_model.compat.port_rules.port_line`.

    Returns:
        (new blocks, changes, notes). changes: (block index, line number in the new
        block counting from 1, old line or None for an added one, new line); notes:
        (block index, line number, text), one per line that will still fail.
    """
    lines = [block.split("\n") for block in blocks]
    changes, notes = [], []
    for b, block in enumerate(lines):
        for i, old in enumerate(block):
            block[i], why = port_line(old, notebook, local)
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


def _check_paths(source, out, force):
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
    if not out.parent.is_dir():
        raise SignsError(f"{out}: the folder {out.parent} does not exist; expected an existing "
                         f"folder for the copy", argument="out")
    if (out.exists() or out.is_symlink()) and not force and ported_from(out) != source.name:
        raise SignsError(f"{out} exists and is not an earlier signs port copy of {source.name}; "
                         f"expected a new name (or force, to replace it)", argument="out")
    return source, out


def ported_from(path):
    """The source name an earlier ``signs port`` copy at ``path`` records, else None."""
    path = Path(path)
    try:
        if path.suffix == ".ipynb":
            import json

            return json.loads(path.read_text(encoding="utf-8"))["metadata"]["signs_port"]["source"]
        last = path.read_text(encoding="utf-8").rstrip("\n").rsplit("\n", 1)[-1]
        return last[len("# " + MARK):] if last.startswith("# " + MARK) else None
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _read_notebook(path):
    import nbformat

    try:
        return nbformat.read(path, as_version=4)
    except Exception as e:  # JSON, schema or encoding: all mean "not a notebook we can read"
        reason = (str(e).splitlines() or [""])[0][:120]
        raise SignsError(f"{path}: not a readable notebook ({type(e).__name__}: {reason}); "
                         f"expected a Jupyter .ipynb file") from None


def port_file(source, out=None, force=False, local=()):
    """Write ``out`` (default ``<source>_tf2.<ext>``): ``source`` with its course-era lines rewritten.

    The input is never overwritten. An existing ``out`` is replaced (atomically) only if it
    is an earlier port of the same file (the copy records its source's name), or with ``force``.
    Args:
        source: a .ipynb notebook or a .py file.
        out: same extension as source, in an existing folder.
        local: course-helper names to keep importing from the folder's own copy
            (see `signs_model.compat.port_rules.port_line`).
    Returns:
        dict: source, out, changes [{where, old, new}] (old None: an added line),
        notes [{where, note}]: lines that will still fail, and what to use instead.
        ``where`` is "code cell 3, line 2" (cells counted as Jupyter's In [n] after Run All)
        or "line 12", in the written file.
    """
    import nbformat

    source, out = _check_paths(source, out, force)
    if source.suffix == ".ipynb":
        nb = _read_notebook(source)
        cells = [c for c in nb.cells if c.cell_type == "code"]
        blocks, changes, notes = port_blocks([c.source for c in cells], True, local)
        nb.metadata["signs_port"] = {"source": source.name}
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
        (text,), changes, notes = port_blocks([original], False, local)
        text = text.rstrip("\n") + f"\n# {MARK}{source.name}\n"
        where = "line {n}"
    atomic_write_bytes(out, text.encode("utf-8"))
    return {"source": str(source), "out": str(out),
            "changes": [{"where": where.format(b=b + 1, n=n), "old": old, "new": new}
                        for b, n, old, new in changes],
            "notes": [{"where": where.format(b=b + 1, n=n), "note": note} for b, n, note in notes]}
