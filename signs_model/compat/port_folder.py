"""``signs port DIR``: a learner's whole course folder ported into a new folder, and run.

Every notebook and ``.py`` file is rewritten (`signs_model.compat.port.port_file`), every
other file (the h5 data, photos) copied, into ``NEWDIR`` (default ``DIR_tf2``
beside DIR); DIR itself is never written to. The course's helper modules beside
the notebooks (``tf_utils.py``, ``cnn_utils.py``) are replaced by the package's,
unless the learner added functions to one: then the notebooks keep importing
their own copy, ported like any other file.
"""
import ast
import re
import shutil
from pathlib import Path

from ..data import lfs_pointer
from ..errors import SignsError
from ..atomic import read_json, write_json
from .port import SUFFIXES, port_file
from .port_rules import HELPERS

MARKER = ".signs_port.json"  # in NEWDIR: which folder it is a port of
SKIPPED = {".git", ".ipynb_checkpoints", "__pycache__", ".venv", "venv"}
# what the course's helper modules define; a helper defining more was changed by its learner
COURSE_HELPER_FUNCTIONS = {"load_dataset", "random_mini_batches", "convert_to_one_hot", "predict",
                           "forward_propagation_for_predict"}
IMPORTED = re.compile(r"^\s*(?:from\s+([\w.]+)\s+import\s+([\w\s,*()]+)|import\s+([\w.\s,]+?))\s*(?:#.*)?$",
                      re.M)


def default_out_dir(source):
    source = Path(source)
    return source.resolve().parent / f"{source.resolve().name}_tf2"


def _check_dirs(source, out, force):
    source = Path(source)
    if not source.is_dir():
        raise SignsError(f"{source}: no such folder; expected a course folder, a notebook (.ipynb) "
                         f"or a Python file (.py)")
    out = Path(out) if out is not None else default_out_dir(source)
    src, dst = source.resolve(), out.resolve()
    if dst == src or src in dst.parents or dst in src.parents:
        raise SignsError(f"{out} is or holds or lies in the input folder {source}; port never writes "
                         f"into its input: expected a folder beside it (default "
                         f"{default_out_dir(source).name})", argument="out")
    if not dst.parent.is_dir():
        raise SignsError(f"{out}: the folder {out.parent} does not exist; expected an existing "
                         f"folder to create the copy in", argument="out")
    if out.exists() and not out.is_dir():
        raise SignsError(f"{out} is a file; expected a new folder for the copy", argument="out")
    if out.is_dir() and any(out.iterdir()) and not force and _ported_from(out) != str(src):
        raise SignsError(f"{out} exists and is not an earlier signs port copy of {source}; expected "
                         f"a new folder (or force, to write into it)", argument="out")
    return source, out


def _ported_from(out):
    try:
        return read_json(out / MARKER)["source"]
    except (OSError, ValueError, KeyError, TypeError):
        return None


def course_files(source):
    """The folder's files (relative paths, sorted), without VCS, checkpoint and cache folders."""
    found = []
    for path in sorted(Path(source).rglob("*")):
        rel = path.relative_to(source)
        if any(part in SKIPPED for part in rel.parts[:-1]) or rel.name in SKIPPED:
            continue
        if path.is_file() or (path.is_symlink() and not path.exists()):
            found.append(rel)
    return found


def _imported_modules(text):
    """Every name an import line of ``text`` mentions (module path parts and imported names)."""
    names = set()
    for module, imported, plain in IMPORTED.findall(text):
        names.update((module or "").split("."))
        names.update(re.findall(r"\w+", imported or ""))
        names.update(re.findall(r"\w+", plain or ""))
    return names


def _changed_helper(path):
    """True if a course helper file defines functions the course's did not (or is not Python we can read)."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (SyntaxError, UnicodeDecodeError, ValueError):
        return True
    defined = {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
    return bool(defined - COURSE_HELPER_FUNCTIONS)


def _source_text(path):
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return ""
    if path.suffix == ".ipynb":
        import json

        try:
            return "\n".join("".join(c["source"]) if isinstance(c["source"], list) else c["source"]
                             for c in json.loads(text)["cells"] if c.get("cell_type") == "code")
        except (ValueError, KeyError, TypeError):
            return ""
    return text


def port_folder(source, out=None, force=False):
    """Port the course folder ``source`` into ``out`` (default ``<source>_tf2`` beside it).

    Returns:
        dict: source, out, files [{file (relative), kind ("notebook", "script", "module",
        "helper"), out, changes, added, notes [{where, note}], error (a file that could not
        be ported, else None)}], copied (count), warnings (one line each: a Git LFS
        pointer, a broken link).
    """
    source, out = _check_dirs(source, out, force)
    files = course_files(source)
    texts = {rel: _source_text(source / rel) for rel in files if rel.suffix in SUFFIXES}
    imported = set().union(*map(_imported_modules, texts.values())) if texts else set()
    local = {rel.stem for rel in texts if rel.suffix == ".py" and rel.stem in HELPERS
             and _changed_helper(source / rel)}
    out.mkdir(exist_ok=True)
    write_json(out / MARKER, {"source": str(source.resolve())})
    report = {"source": str(source), "out": str(out), "files": [], "copied": 0, "warnings": []}
    for rel in files:
        src, dst = source / rel, out / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        if not src.exists():
            report["warnings"].append(f"{src}: a broken link, not copied")
            continue
        if rel.suffix not in SUFFIXES:
            pointer = lfs_pointer(src)
            if pointer:
                report["warnings"].append(pointer)
            shutil.copyfile(src, dst)
            report["copied"] += 1
            continue
        kind = ("notebook" if rel.suffix == ".ipynb" else "helper" if rel.stem in HELPERS
                else "module" if rel.name == "__init__.py" or (rel.stem in imported and "__main__"
                                                                not in texts[rel]) else "script")
        entry = {"file": str(rel), "kind": kind, "out": str(dst), "changes": 0, "added": 0,
                 "notes": [], "error": None}
        try:
            ported = port_file(src, dst, force=True, local=local)
        except SignsError as e:
            entry["error"] = str(e)
        else:
            entry["added"] = sum(c["old"] is None for c in ported["changes"])
            entry["changes"] = len(ported["changes"]) - entry["added"]
            entry["notes"] = ported["notes"]
        if kind == "helper" and rel.stem in local:
            entry["notes"].insert(0, {"where": "file", "note": f"defines more than the course's {rel.stem}: "
                                      f"the folder's files import this ported copy, not the package's"})
        report["files"].append(entry)
    return report


def runnable(report):
    """The ported files ``--run`` runs: notebooks and scripts (not modules or helpers)."""
    return [f for f in report["files"] if f["kind"] in ("notebook", "script")]
