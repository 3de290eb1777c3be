"""Arguments shared by the subcommands; the hyperparameter flags come from config.HYPERPARAMETERS,
the search and batch flags from settings.SETTINGS."""
import argparse

from ..config import HYPERPARAMETERS
from ..devices import DEVICES
from ..runs import CHECKPOINT_CHOICES
from ..settings import SETTINGS


def comma_separated(convert, example):
    """An argparse type: "25,12" -> (25, 12) with ``convert`` applied to each item.

    "" and "none" (the word the help shows for an empty default) give ().
    """
    def parse(text):
        if text.strip().lower() in ("", "none"):
            return ()
        try:
            return tuple(convert(v) for v in text.split(","))
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected comma-separated values like {example}, "
                                             f"got {text!r}") from None
    return parse


def non_negative_int(text):
    """An argparse type for counts where 0 means "never"."""
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected an int >= 0, got {text!r}")
    return value


def flag_of(argument):
    """The flag that sets a library argument: ``num_epochs`` -> ``--epochs``, ``data_dir`` -> ``--data-dir``."""
    h = HYPERPARAMETERS.get(argument)
    return h.option if h else "--" + argument.replace("_", "-")


def add_setting_args(p, *names):
    """One flag per setting (``--trials``, ``--dev-fraction``, ...), its default and help from
    ``settings.SETTINGS``; the library checks the value."""
    for name in names:
        s = SETTINGS[name]
        p.add_argument("--" + name.replace("_", "-"), type=s.type, default=s.default,
                       metavar=s.metavar, help=f"{s.help} (default {s.default})")


def add_data_arg(p):
    p.add_argument("--data-dir", help="folder with train_signs.h5 and test_signs.h5 "
                   "(default: $SIGNS_DATA_DIR, else datasets/)")


def add_device_arg(p):
    p.add_argument("--device", choices=DEVICES, default="auto",
                   help="auto: a GPU if TensorFlow sees one; gpu: refuse to run without one")


def add_checkpoint_arg(p):
    p.add_argument("--checkpoint", choices=CHECKPOINT_CHOICES, default="final",
                   help="final: the parameters a finished run wrote (default; a run that did "
                   "not finish, without metrics.json, is refused); last: its newest checkpoint, "
                   "for a run that was stopped or killed")


def _default(h):
    return (",".join(map(str, h.default)) or "none") if h.type is tuple else h.default


def add_hparam_args(p, names=None, resume=False, defaults=None):
    """One flag per hyperparameter, its help and default from the registry.

    Args:
        names: the hyperparameters to offer (default: all).
        resume: leave out the ones a resumed run cannot change.
        defaults: flag defaults that differ from the registry's (e.g. an experiment's epochs).
            Without one, a flag left out is None: "keep the config's value".
    """
    g = p.add_argument_group("hyperparameters (defaults: the course's)")
    for h in HYPERPARAMETERS.values():
        if (names is not None and h.name not in names) or (resume and h.frozen):
            continue
        default = (defaults or {}).get(h.name)
        shown = f"default {_default(h) if default is None else default}"
        if h.type is bool:
            g.add_argument(h.option, dest=h.name, action=argparse.BooleanOptionalAction,
                           default=default,
                           help=f"{h.help}")
            continue
        kind = {tuple: comma_separated(int, _default(h)), str: str}.get(h.type, h.type)
        g.add_argument(h.option, dest=h.name, type=kind, default=default,
                       choices=h.values if h.type is str else None,
                       metavar=None if h.type is str else h.name.upper(), help=f"{h.help} ({shown})")


def hparam_changes(args):
    """The hyperparameters given on the command line, as TrainConfig field -> value."""
    return {name: getattr(args, name) for name in HYPERPARAMETERS
            if getattr(args, name, None) is not None}
