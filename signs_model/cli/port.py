"""``signs port``: make a course-era TF 1.x notebook or script run here, and run it."""
import sys

from ..errors import check_int
from ..port import port_file
from ..port_run import run_ported


def run(args):
    check_int("timeout", args.timeout)  # refused before anything is written
    result = port_file(args.source, args.out)
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
    if ran["failure"]:
        print(f"signs: error: {ran['failure']}", file=sys.stderr)
        return 1
    print(f"ran {result['out']} without errors in {ran['seconds']:.1f} s")
    return 0


def add_parser(sub):
    p = sub.add_parser("port", help="rewrite a course-era TF 1.x notebook or .py file to run "
                       "here (and run it)")
    p.add_argument("source", metavar="OLD", help="the course notebook (.ipynb) or Python file "
                   "(.py); never overwritten")
    p.add_argument("-o", "--out", metavar="NEW", help="where the ported copy goes "
                   "(default OLD_tf2.ipynb / OLD_tf2.py, beside OLD)")
    p.add_argument("--run", action="store_true", help="then run NEW headless in its folder "
                   "(a notebook keeps its outputs) and report the first failing cell")
    p.add_argument("--timeout", type=int, default=600, metavar="SECONDS",
                   help="time limit per notebook cell, or for a whole .py file (default 600)")
    p.set_defaults(func=run)
