"""Every hyperparameter in one table, and the training configuration built from it.

``HYPERPARAMETERS`` is the one home of each hyperparameter's name, type, valid
values, default and help text. ``TrainConfig`` (its fields and their checks),
the search space's names and bounds (``search.space``) and the ``signs`` flags with
their help (``cli``) are all derived from it: adding a hyperparameter is one
line here. The defaults are the course's: a 25-12-6 network, Adam with learning
rate 1e-4, 1500 epochs, minibatches of 32, minibatch seed 3 (+1 each epoch) and
graph seed 1.

Example:
    >>> cfg = TrainConfig(learning_rate=1e-3)
    >>> cfg.hidden_units, cfg.replace(num_epochs=10).num_epochs
    ((25, 12), 10)
"""
import dataclasses
import math
from dataclasses import dataclass

from .errors import SignsError, is_number

OPTIMIZERS = ("gd", "momentum", "rmsprop", "adam")
PREPROCESSING = ("none", "standardize")
MAX_SEED = 2**32 - 1     # NumPy's RandomState takes seeds in [0, 2**32 - 1]
MAX_TF_SEED = 2**31 - 1
FLOAT32_MAX = 3.4028234663852886e38  # the network computes in float32: larger values become inf


@dataclass(frozen=True)
class Interval:
    """A range of numbers, each end open or closed, e.g. ``Interval(0, 1, "(]")`` is (0, 1]."""
    low: float
    high: float
    ends: str = "[]"

    def __contains__(self, v):
        return ((v > self.low if self.ends[0] == "(" else v >= self.low)
                and (v < self.high if self.ends[1] == ")" else v <= self.high))

    def __str__(self):
        def show(v):
            if v in (math.inf, FLOAT32_MAX):
                return "inf" if v == math.inf else f"{v:.4g}"
            return str(int(v)) if float(v).is_integer() else f"{v:g}"
        return f"{self.ends[0]}{show(self.low)}, {show(self.high)}{self.ends[1]}"


POSITIVE, NON_NEGATIVE = Interval(0, FLOAT32_MAX, "(]"), Interval(0, FLOAT32_MAX)
COUNT, BETA = Interval(1, math.inf, "[)"), Interval(0, 1, "[)")


@dataclass(frozen=True)
class Hyperparameter:
    """One hyperparameter: what it is, which values it takes, and its default.

    Args:
        type: float, int, bool, str (one of ``values``) or tuple (of ints in ``values``).
        values: an Interval for numbers (each item's, for tuple), the choices for str.
        frozen: a resumed run cannot change it (the checkpoint holds the old network).
        flag: the command-line flag (default: ``--`` + the name with dashes).
    """
    name: str
    type: type
    default: object
    values: object
    help: str
    frozen: bool = False
    flag: str = None

    @property
    def option(self):
        return self.flag or "--" + self.name.replace("_", "-")

    def expected(self, item=False):
        """What a valid value is, in words ("an int in [1, inf)")."""
        if self.type is bool:
            return "true or false"
        if self.type is str:
            return "one of " + ", ".join(self.values)
        if self.type is tuple and not item:
            return f"{'zero' if self.default == () else 'one'} or more ints in {self.values}"
        kind = "an int" if self.type in (int, tuple) else "a number"
        limit = " (the network computes in float32)" if self.values.high == FLOAT32_MAX else ""
        return f"{kind} in {self.values}{limit}"

    def check(self, value, item=False):
        """``value`` if it is valid (a tuple for layer sizes), else a SignsError naming this one.

        Args:
            item: check one item of a tuple hyperparameter (a single layer size).
        """
        if self.type is tuple and not item:
            if (isinstance(value, (list, tuple)) and (value or self.default == ())
                    and all(self._ok(v, int) for v in value)):
                return tuple(value)
        elif self._ok(value, int if self.type is tuple else self.type):
            return value
        raise SignsError(f"{self.name} must be {self.expected(item)}, got {value!r}",
                         argument=self.name)

    def _ok(self, v, kind):
        if kind is bool or kind is str:
            return isinstance(v, bool) if kind is bool else v in self.values
        if not is_number(v) or (kind is int and not float(v).is_integer()):
            return False
        return v in self.values


HYPERPARAMETERS = {h.name: h for h in (
    Hyperparameter("learning_rate", float, 0.0001, POSITIVE, "alpha0, the learning rate"),
    Hyperparameter("num_epochs", int, 1500, COUNT, "passes over the training set (on resume: "
                   "further passes)", flag="--epochs"),
    Hyperparameter("minibatch_size", int, 32, COUNT, "examples per minibatch"),
    Hyperparameter("hidden_units", tuple, (25, 12), COUNT, "hidden layer sizes, e.g. 25,12",
                   frozen=True),
    Hyperparameter("optimizer", str, "adam", OPTIMIZERS, "the update rule", frozen=True),
    Hyperparameter("beta", float, 0.9, BETA, "momentum's beta"),
    Hyperparameter("beta1", float, 0.9, BETA, "Adam's first-moment beta"),
    Hyperparameter("beta2", float, 0.999, BETA, "Adam's second-moment beta, RMSprop's decay"),
    Hyperparameter("epsilon", float, 1e-8, POSITIVE, "Adam's and RMSprop's epsilon"),
    Hyperparameter("decay_rate", float, 0.0, NON_NEGATIVE,
                   "learning-rate decay: alpha = alpha0 / (1 + decay_rate * epoch)"),
    Hyperparameter("batch_norm", bool, False, None,
                   "batch norm on every hidden layer (their b is dropped)", frozen=True),
    Hyperparameter("bn_momentum", float, 0.9, BETA, "batch norm's moving-average momentum"),
    Hyperparameter("l2_lambda", float, 0.0, NON_NEGATIVE, "L2 regularization lambda"),
    Hyperparameter("label_smoothing", float, 0.0, BETA,
                   "train towards (1 - s) * the one-hot label + s / classes (0: the label)"),
    Hyperparameter("keep_prob", float, 1.0, Interval(0, 1, "(]"),
                   "dropout keep probability (1: no dropout)"),
    Hyperparameter("preprocess", str, "none", PREPROCESSING,
                   "input preprocessing: standardize = each photo to zero mean, unit variance "
                   "(brightness and contrast removed)", frozen=True),
    Hyperparameter("augment", bool, False, None, "random shift, scale, rotation, flip, "
                   "brightness, contrast and saturation of each training photo"),
    Hyperparameter("erase", float, 0.0, Interval(0, 1),
                   "with augment: the chance that a training photo gets a random rectangle "
                   "(2 to 25 percent of it) replaced by noise (random erasing)"),
    Hyperparameter("hue", float, 0.0, Interval(0, 180),
                   "with augment: turn each training photo's hues by up to this many degrees"),
    Hyperparameter("flip_tta", bool, False, None, "at evaluation and prediction: average each "
                   "photo's probabilities with its mirror image's (test-time augmentation)"),
    Hyperparameter("conv_channels", tuple, (), COUNT, "conv blocks (3x3 conv, relu, 2x2 max-pool) "
                   "before the dense layers, e.g. 16,32,64 (none: the course's network)",
                   frozen=True),
    Hyperparameter("conv_batch_norm", bool, False, None, "batch norm after each conv, one "
                   "mean and variance per channel (their b is dropped)", frozen=True),
    Hyperparameter("seed", int, 3, Interval(0, MAX_SEED),
                   "minibatch shuffling seed: epoch e shuffles with seed + 1 + e"),
    Hyperparameter("tf_seed", int, 1, Interval(0, MAX_TF_SEED),
                   "graph-level seed: initial weights and dropout masks", frozen=True),
)}


# Named recipes: hyperparameters that differ from the defaults. "photos" is the
# recipe that transferred best to photos that are not SIGNS (benchmarks/own_photos.py
# compares it, ingredient by ingredient, with the course's model; benchmarks/photos_seeds.py
# measures recipes over three seeds, docs/own_photos.md).
PRESETS = {
    "course": {},
    "photos": {"augment": True, "conv_channels": (16, 32, 64), "hidden_units": (64,),
               "learning_rate": 0.001, "num_epochs": 60, "flip_tta": True},
}


def preset(name):
    """The hyperparameters of a named recipe (``PRESETS``), as TrainConfig changes."""
    if name not in PRESETS:
        raise SignsError(f"preset must be one of {', '.join(PRESETS)}, got {name!r}",
                         argument="preset")
    return dict(PRESETS[name])


class _Config:
    """The methods of TrainConfig; its fields come from HYPERPARAMETERS."""

    def __post_init__(self):
        for h in HYPERPARAMETERS.values():  # in table order: num_epochs is checked before seed
            if h.name == "seed":  # epoch e shuffles with seed + 1 + e: a NumPy seed too
                h = dataclasses.replace(h, values=Interval(0, MAX_SEED - self.num_epochs))
            setattr(self, h.name, h.check(getattr(self, h.name)))

    def to_dict(self):
        return {k: list(v) if isinstance(v, tuple) else v
                for k, v in dataclasses.asdict(self).items()}

    def replace(self, **changes):
        return dataclasses.replace(self, **changes)

    @classmethod
    def from_dict(cls, d):
        """Build from a dict of hyperparameters (params.json's, without its run keys)."""
        unknown = sorted(set(d) - set(HYPERPARAMETERS))
        if unknown:
            raise SignsError(f"unknown hyperparameter(s) {', '.join(unknown)}; "
                             f"expected some of {', '.join(HYPERPARAMETERS)}")
        return cls(**d)


TrainConfig = dataclasses.make_dataclass(
    "TrainConfig",
    [(h.name, h.type, dataclasses.field(default=h.default)) for h in HYPERPARAMETERS.values()],
    bases=(_Config,),
    namespace={"__module__": __name__,
               "__doc__": "Training hyperparameters with the course's defaults, checked on "
                          "creation (see HYPERPARAMETERS)."})
