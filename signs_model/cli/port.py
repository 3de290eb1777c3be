"""``signs port``: make a course-era TF 1.x notebook, script or whole folder run here, and run it."""
import sys
from pathlib import Path

from ..errors import SignsError, check_int
from ..compat.port import port_file
from ..compat.port_folder import port_folder, runnable
from ..compat.port_run import run_ported


def run(args):
    check_int("timeout", args.timeout)  # refused before anything is written
    if args.check and not args.run:
        raise SignsError("check compares what a run printed; expected run too", argument="check")
    if Path(args.source).is_dir():
        return run_folder(args)
    result = port_file(args.source, args.out, force=args.force)
    for change in result["changes"]:
        print(change["where"])
        if change["old"] is not None:
            print(f"  - {change['old']}")
        print(f"  + {change['new']}")
    for note in result["notes"]:
        print(f"note: {note['where']}: {note['note']}")
    added = sum(c["old"] is None for c in result["changes"])
    print(f"wrote {result['out']}: {len(result['changes']) - added} line(s) changed, {added} added"
          + (f", {len(result['notes'])} note(s)" if result["notes"] else ""))
    if not args.run:
        return 0
    sys.stdout.flush()  # before the script's own prints
    ran = run_ported(result["out"], args.timeout)
    _graph_note(ran)
    if ran["failure"]:
        print(f"signs: error: {ran['failure']}", file=sys.stderr)
        return 1
    print(f"ran {result['out']} without errors in {ran['seconds']:.1f} s")
    return _check([ran]) if args.check else 0


def run_folder(args):
    report = port_folder(args.source, args.out, force=args.force)
    for warning in report["warnings"]:
        print(f"warning: {warning}")
    for f in report["files"]:
        if f["error"]:
            print(f"{f['file']} ({f['kind']}): not ported: {f['error']}")
            continue
        print(f"{f['file']} ({f['kind']}): {f['changes']} line(s) changed, {f['added']} added"
              + (f", {len(f['notes'])} note(s)" if f["notes"] else ""))
        for note in f["notes"]:
            print(f"  note: {note['where']}: {note['note']}")
    print(f"wrote {report['out']}: {len(report['files'])} file(s) ported, {report['copied']} copied")
    if not args.run:
        return 0
    todo = runnable(report)
    ended = []
    for f in todo:
        if f["error"]:
            print(f"{f['file']}: not run (not ported)")
            continue
        print(f"running {f['file']} ...", flush=True)
        ran = run_ported(f["out"], args.timeout, root=report["out"])
        _graph_note(ran)
        if ran["failure"]:
            print(f"  failed: {ran['failure']}")
        else:
            print(f"  ran to the end in {ran['seconds']:.1f} s")
            ended.append(ran)
        sys.stdout.flush()
    print(f"{len(ended)} of {len(todo)} ran to the end")
    code = 0 if len(ended) == len(todo) else 1
    return max(code, _check(ended)) if args.check else code


def _graph_note(ran):
    if ran["flatten_graph"]:
        print(f"  note: its expected output is the later course version's: run with contrib flatten's "
              f"TF {ran['flatten_graph']} graph (SIGNS_TF1_FLATTEN={ran['flatten_graph']})")


def _check(runs):
    from ..compat.port_check import check_notebook

    differing, compared = 0, []
    for ran in (r for r in runs if r["path"].endswith(".ipynb")):  # a script's prints are not kept
        for line in check_notebook(ran["path"], ran["flatten_graph"], compared):
            print(f"check: {line}")
            differing += 1
    print(f"check: {len(compared)} printed value(s) compared, {differing} differ from the course's "
          f"published ones")
    return 1 if differing else 0


def add_parser(sub):
    p = sub.add_parser("port", help="rewrite a course-era TF 1.x notebook, .py file or whole "
                       "folder to run here (and run it)")
    p.add_argument("source", metavar="OLD", help="the course notebook (.ipynb), Python file (.py) "
                   "or folder; never written to")
    p.add_argument("-o", "--out", metavar="NEW", help="where the ported copy goes (default "
                   "OLD_tf2.ipynb / OLD_tf2.py beside OLD; for a folder, OLD_tf2/)")
    p.add_argument("--force", action="store_true", help="replace NEW even if it is not an earlier "
                   "port of OLD")
    p.add_argument("--run", action="store_true", help="then run NEW headless in its folder "
                   "(a notebook keeps its outputs) and report the first failing cell")
    p.add_argument("--check", action="store_true", help="with --run: compare the graded functions' "
                   "printed values with the course's published ones")
    p.add_argument("--timeout", type=int, default=600, metavar="SECONDS",
                   help="time limit per notebook cell, or for a whole .py file (default 600)")
    p.set_defaults(func=run)
