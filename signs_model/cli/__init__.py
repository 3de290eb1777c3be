"""The ``signs`` command: train, tune, dashboard, predict, evaluate, demo, data, experiment, port.

Each subcommand (a module here) parses its flags and calls the library; the
library never imports this package. Library errors name arguments
(``seed``); here they are shown with the flag that sets them (``--seed``), as
one line ``signs: error: ...`` on stderr and a non-zero exit, never a traceback.
"""
import argparse
import sys

from ..errors import SignsError
from . import dashboard, data, demo, evaluate, experiment, port, predict, train, tune
from .args import flag_of

COMMANDS = (train, tune, dashboard, predict, evaluate, demo, data, experiment, port)


def _version():
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("signs-model")
    except PackageNotFoundError:  # run from a source tree that was not installed
        return "(not installed)"


def build_parser():
    parser = argparse.ArgumentParser(prog="signs", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = parser.add_subparsers(dest="command", required=True)
    for command in COMMANDS:
        command.add_parser(sub)
    return parser


def main(argv=None):
    try:
        args = build_parser().parse_args(argv)
        return args.func(args) or 0
    except SignsError as e:
        where = f"argument {flag_of(e.argument)}: " if e.argument else ""
        print(f"signs: error: {where}{e}", file=sys.stderr)
        return 2
    except OSError as e:  # a file or folder the checks could not foresee (a disk filling up)
        where = f"{e.filename}: " if e.filename else ""
        print(f"signs: error: {where}{e.strerror or e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt as e:
        print(f"signs: interrupted{': ' + str(e) if str(e) else ''}", file=sys.stderr)
        return 130
