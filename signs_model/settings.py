"""Settings that are not hyperparameters: one home for their defaults, checks and help.

``config.HYPERPARAMETERS`` describes a network and its training; ``SETTINGS``
describes how a search runs (trials, workers, dev fraction, seeds, finalists,
pruning) and how photos are read in batches (``predict``, ``evaluate``). The
library's functions take their defaults from it and check values with
``check``; the ``signs`` flags take their defaults and help from it
(``cli.args.add_setting_args``).

Example:
    >>> SETTINGS["trials"].default, check("dev_fraction", 0.2)
    (20, 0.2)
    >>> check("workers", 0)
    Traceback (most recent call last):
    ...
    signs_model.errors.SignsError: workers must be an int >= 1, got 0
"""
from dataclasses import dataclass

from .errors import SignsError, check_int, is_number


@dataclass(frozen=True)
class Setting:
    """One setting: its type (int, or float for a fraction in (0, 1)), default, least value, help."""
    name: str
    type: type
    default: object
    help: str
    low: int = 1
    metavar: str = None

    def check(self, value):
        if self.type is float:  # a fraction of a set of examples
            check_fraction(value, self.name)
            return value
        return check_int(self.name, value, self.low)


SETTINGS = {s.name: s for s in (
    Setting("trials", int, 20, "trials per round", metavar="N"),
    Setting("workers", int, 1, "trials at a time (local processes, or CPUs of a local Ray instance)",
            metavar="W"),
    Setting("population", int, 16, "trials that share their minibatches train together in one "
            "graph, at most K at a time (1: one graph per trial)", metavar="K"),
    Setting("zoom_rounds", int, 0, "coarse to fine: further rounds in the space zoomed around the "
            "best trials so far", low=0, metavar="R"),
    Setting("dev_fraction", float, 0.2, "share of the training set held out to judge trials"),
    Setting("seed", int, 0, "round r samples with seed + r; also the dev split's seed", low=0),
    Setting("finalists", int, 1, "train the N best trials again with other seeds and pick by "
            "their mean dev accuracy (with final seeds)", metavar="N"),
    Setting("final_seeds", int, 1, "seeds per finalist, its own included (1: pick the best "
            "trial)", metavar="S"),
    Setting("prune_min_epochs", int, 20, "pruning's first rung, in epochs; then E*eta, E*eta^2, "
            "...", metavar="E"),
    Setting("prune_eta", int, 3, "pruning keeps the top 1/ETA at each rung", low=2, metavar="ETA"),
    Setting("batch_size", int, 256, "photos per session run (predict, evaluate)"),
    Setting("test_fraction", float, 0.1, "share of the photos a built dataset keeps for its "
            "test set"),
)}
DEFAULTS = {name: s.default for name, s in SETTINGS.items()}


def check_fraction(fraction, name):
    """Refuse a split fraction outside (0, 1), naming the argument (``dev_fraction``, ``test_fraction``)."""
    if not (is_number(fraction) and 0 < fraction < 1):
        raise SignsError(f"{name} must be a number in (0, 1), got {fraction!r}", argument=name)


def check(name, value):
    """``value`` if it is valid for setting ``name``, else a SignsError naming it."""
    return SETTINGS[name].check(value)
