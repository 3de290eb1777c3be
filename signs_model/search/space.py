"""The hyperparameter search space: which values to try, and on what scale.

The lecture's points, in code: sample at random rather than on a grid (each
trial then tries a new value of every axis); sample each axis on its
*appropriate scale* (a learning rate in [1e-4, 1] log-uniformly, so every
decade gets the same share; a momentum beta in [0.9, 0.999] by sampling
1 - beta log-uniformly, because the average spans ~1/(1 - beta) steps); then
*zoom* into the region where the best trials landed and sample again.

Pure Python + NumPy (no TensorFlow), so it imports and tests fast.

Example:
    >>> space = SearchSpace.from_dict({
    ...     "learning_rate": {"scale": "log", "low": 1e-4, "high": 1},
    ...     "optimizer": {"scale": "choice", "values": ["adam", "momentum"]}})
    >>> trials = space.sample(3, seed=0)
    >>> len(trials), sorted(trials[0])
    (3, ['learning_rate', 'optimizer'])
"""
import itertools
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from ..config import HYPERPARAMETERS
from ..errors import SignsError, check_int, is_number

SCALES = ("linear", "int", "log", "one_minus_log", "choice")
_LAYER = re.compile(r"hidden_units_([1-9][0-9]*)")  # one layer's size: hidden_units_1, _2, ...


def hyperparameter(name):
    """The registry entry an axis samples, and whether the axis is one item of it (a layer size).

    Returns:
        (config.Hyperparameter, item) with item True for ``hidden_units_<k>``.
    """
    if isinstance(name, str) and _LAYER.fullmatch(name):
        return HYPERPARAMETERS["hidden_units"], True
    h = HYPERPARAMETERS.get(name) if isinstance(name, str) else None
    if h is None:
        raise SignsError(f"unknown hyperparameter {name!r}; expected one of "
                         f"{list(HYPERPARAMETERS)} or hidden_units_<k> (the size of hidden layer k)")
    return h, False


def config_changes(trial):
    """A sampled trial as TrainConfig changes: ``hidden_units_1 .. _K`` become ``hidden_units``."""
    changes = {k: v for k, v in trial.items() if not _LAYER.fullmatch(k)}
    layers = layer_names(trial)
    if layers:
        changes["hidden_units"] = tuple(trial[k] for k in layers)
    return changes


def layer_names(names):
    """The ``hidden_units_<k>`` among ``names``, in layer order, once checked: numbered
    1 .. K without gaps, and not beside ``hidden_units`` (which would set the layers twice)."""
    layers = sorted((int(m.group(1)), k) for k in names if (m := _LAYER.fullmatch(k)))
    if layers and "hidden_units" in names:
        raise SignsError(f"search space samples both hidden_units and {layers[0][1]}; expected "
                         f"either hidden_units (all layer sizes) or hidden_units_1 .. "
                         f"hidden_units_K (one per layer)")
    missing = sorted(set(range(1, len(layers) + 1)) - {i for i, _ in layers})
    if missing:
        raise SignsError(f"search space samples {', '.join(k for _, k in layers)} without "
                         f"hidden_units_{missing[0]}; expected hidden layer sizes numbered "
                         f"hidden_units_1 .. hidden_units_K without gaps")
    return [k for _, k in layers]


def _check_value(name, v, what):
    h, item = hyperparameter(name)
    try:
        h.check(v, item)
    except SignsError:
        raise SignsError(f"{name}: {what} must be {h.expected(item)}, got {v!r}") from None


def _to_t(scale, x):
    """Map values to the coordinate in which the scale is uniform."""
    x = np.asarray(x, dtype=float)
    return np.log10(x) if scale == "log" else np.log10(1 - x) if scale == "one_minus_log" else x


def _from_t(scale, t):
    t = np.asarray(t, dtype=float)
    return 10.0 ** t if scale == "log" else 1 - 10.0 ** t if scale == "one_minus_log" else t


@dataclass
class Param:
    """One axis of the search: a name, a scale, and bounds (or choice values).

    Args:
        name: a known hyperparameter name (``learning_rate``, ``beta1``, ...).
        scale: one of ``SCALES``.
        low, high: inclusive bounds for numeric scales (``low == high`` fixes it).
        values: the list to pick from, for ``scale="choice"`` only.
    """
    name: str
    scale: str
    low: float = None
    high: float = None
    values: list = None

    def __post_init__(self):
        n = self.name
        h, item = hyperparameter(n)
        integer = h.type in (int, tuple)
        if self.scale not in SCALES:
            raise SignsError(f"{n}: unknown scale {self.scale!r}; expected one of {list(SCALES)}")
        if self.scale == "choice":
            if self.low is not None or self.high is not None:
                raise SignsError(f"{n}: choice scale takes 'values', not 'low'/'high'")
            if not isinstance(self.values, (list, tuple)) or not self.values:
                raise SignsError(f"{n}: choice scale needs a non-empty list of values, got {self.values!r}")
            for v in self.values:
                _check_value(n, v, "each choice value")
            self.values = [tuple(int(x) for x in v) if h.type is tuple and not item
                           else int(v) if integer else v for v in self.values]
            return
        if self.values is not None:
            raise SignsError(f"{n}: {self.scale} scale takes 'low' and 'high', not 'values'")
        if h.type in (bool, str) or (h.type is tuple and not item):  # a layer list: conv_channels
            raise SignsError(f"{n}: must use the choice scale, got {self.scale!r}")
        if integer and self.scale != "int":
            raise SignsError(f"{n}: takes integers, use the int or choice scale, got {self.scale!r}")
        for key in ("low", "high"):
            v = getattr(self, key)
            if v is None:
                raise SignsError(f"{n}: {self.scale} scale needs '{key}'")
            if not is_number(v):
                raise SignsError(f"{n}: {key} must be a finite number, got {v!r}")
            if self.scale == "int":
                if not float(v).is_integer():
                    raise SignsError(f"{n}: int scale needs integer bounds, got {key}={v!r}")
                setattr(self, key, int(v))
        if self.low > self.high:
            raise SignsError(f"{n}: low must be <= high, got low={self.low}, high={self.high}")
        if self.scale == "log" and self.low <= 0:
            raise SignsError(f"{n}: log scale needs low > 0, got low={self.low}")
        if self.scale == "one_minus_log" and not (0 <= self.low and self.high < 1):
            raise SignsError(f"{n}: one_minus_log scale needs 0 <= low <= high < 1, "
                             f"got low={self.low}, high={self.high}")
        _check_value(n, self.low, "low")
        _check_value(n, self.high, "high")

    def to_dict(self):
        """The JSON form: ``{"scale", "low", "high"}`` or ``{"scale": "choice", "values"}``."""
        if self.scale == "choice":
            return {"scale": "choice", "values": [list(v) if isinstance(v, tuple) else v
                                                  for v in self.values]}
        return {"scale": self.scale, "low": self.low, "high": self.high}


class SearchSpace(Mapping):
    """An ordered mapping name -> Param, with random sampling, a grid, and zoom.

    Args:
        params: iterable of ``Param`` with distinct names.
    """

    def __init__(self, params):
        self._params = {}
        for p in params:
            if not isinstance(p, Param):
                raise SignsError(f"search space entries must be Param, got {type(p).__name__}")
            if p.name in self._params:
                raise SignsError(f"{p.name}: appears twice in the search space")
            self._params[p.name] = p
        if not self._params:
            raise SignsError("search space is empty; expected at least one hyperparameter")
        layer_names(self._params)  # refused here, before any trial trains with it

    def __getitem__(self, name):
        return self._params[name]

    def __iter__(self):
        return iter(self._params)

    def __len__(self):
        return len(self._params)

    def __repr__(self):
        return f"SearchSpace({list(self._params.values())!r})"

    @classmethod
    def from_dict(cls, d):
        """Build from ``{name: {"scale": s, "low": a, "high": b}}`` (choice: ``"values": [...]``)."""
        if not isinstance(d, dict):
            raise SignsError(f"search space must be a JSON object (dict), got {type(d).__name__}")
        params = []
        for name, spec in d.items():
            hyperparameter(name)
            if not isinstance(spec, dict) or "scale" not in spec:
                raise SignsError(f"{name}: expected an object with a 'scale' key, got {spec!r}")
            allowed = {"scale", "values"} if spec["scale"] == "choice" else {"scale", "low", "high"}
            extra = sorted(set(spec) - allowed)
            if extra:
                raise SignsError(f"{name}: unexpected keys {extra} for {spec['scale']!r} scale; "
                                 f"expected {sorted(allowed)}")
            params.append(Param(name, **spec))
        return cls(params)

    @classmethod
    def from_json(cls, path):
        """Read a search space from a JSON file (format of ``from_dict``)."""
        try:
            with open(path) as f:
                d = json.load(f)
        except OSError as e:
            raise SignsError(f"cannot read search space file {str(path)!r}: {e.strerror or e}") from None
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise SignsError(f"search space file {str(path)!r} is not valid JSON: {e}") from None
        return cls.from_dict(d)

    def to_dict(self):
        """The dict that ``from_dict`` reads back to an equal space."""
        return {name: p.to_dict() for name, p in self.items()}

    def to_json(self, path):
        """Write ``to_dict()`` to ``path`` as indented JSON."""
        with open(path, "w") as f:
            json.dump(self.to_dict(), f, indent=2)

    def sample(self, n, seed):
        """Draw ``n`` random trials, each axis on its own scale.

        Trial k is drawn from its own generator, seeded by ``(seed, k)``, so it
        does not depend on ``n``: ``sample(4, s)`` is a prefix of ``sample(8, s)``,
        and a search rerun with more trials keeps the ones it already ran.

        Args:
            n: number of trials (int >= 1).
            seed: int >= 0; the same seed gives the same trials.
        Returns:
            list of n dicts name -> value (Python int, float, or the choice value).
        """
        check_int("n", n)
        check_int("seed", seed, 0)
        return [self._sample_one(np.random.default_rng([seed, k])) for k in range(n)]

    def _sample_one(self, rng):
        trial = {}
        for name, p in self.items():
            if p.scale == "choice":
                trial[name] = p.values[int(rng.integers(len(p.values)))]
            elif p.scale == "int":
                trial[name] = int(rng.integers(p.low, p.high + 1))
            else:
                a, b = sorted(_to_t(p.scale, [p.low, p.high]))
                trial[name] = float(np.clip(_from_t(p.scale, rng.uniform(a, b)), p.low, p.high))
        return trial

    def grid(self, points_per_axis):
        """All combinations of ``points_per_axis`` evenly spaced values per axis (on its scale).

        Int axes are rounded and deduplicated; choice axes list all their values.

        Returns:
            list of dicts name -> value, in ``itertools.product`` order.
        """
        k = check_int("points_per_axis", points_per_axis, 2)
        axes = []
        for p in self.values():
            if p.scale == "choice":
                axes.append(list(p.values))
                continue
            x = _from_t(p.scale, np.linspace(*_to_t(p.scale, [p.low, p.high]), k))
            x[0], x[-1] = p.low, p.high  # exact ends, no round-off
            cast = (lambda v: int(round(v))) if p.scale == "int" else float
            axes.append(list(dict.fromkeys(cast(v) for v in x)))
        return [dict(zip(self, combo)) for combo in itertools.product(*axes)]

    def zoom(self, trials, top_k=3, fraction=None, margin=0.25, min_width=0.05):
        """A narrower space around the best scored trials ("coarse to fine").

        Args:
            trials: list of dicts of hyperparameter values plus ``score`` (higher
                is better; None/NaN or missing = failed, ignored).
            top_k: how many best trials to zoom around (int >= 1) ...
            fraction: ... or this share of the scored trials (0 < fraction <= 1).
            margin: widen the top trials' span by this share of it on each side.
            min_width: but by at least this share of the original width per side.
        Returns:
            SearchSpace inside this one; choice axes keep the values seen at the top.
        """
        if not isinstance(trials, (list, tuple)) or not all(isinstance(t, dict) for t in trials):
            raise SignsError("trials must be a list of dicts (hyperparameters + 'score')")
        if fraction is None:
            check_int("top_k", top_k)
        if fraction is not None and not (is_number(fraction) and 0 < fraction <= 1):
            raise SignsError(f"fraction must be a number in (0, 1], got {fraction!r}")
        for key, v in (("margin", margin), ("min_width", min_width)):
            if not (is_number(v) and v >= 0):
                raise SignsError(f"{key} must be a number >= 0, got {v!r}")
        scored = []
        for i, t in enumerate(trials):
            s = t.get("score")
            if s is not None and not (isinstance(s, (int, float, np.number)) and not isinstance(s, bool)):
                raise SignsError(f"trial {i}: score must be a number or None, got {s!r}")
            if s is not None and not math.isnan(s):
                scored.append(t)
        if not scored:
            raise SignsError("zoom: no trial has a score (all failed or unscored); nothing to zoom around")
        k = math.ceil(fraction * len(scored)) if fraction is not None else top_k
        best = sorted(scored, key=lambda t: t["score"], reverse=True)[:k]
        return SearchSpace(_zoom_axis(p, [t.get(p.name) for t in best], margin, min_width)
                           for p in self.values())


def _zoom_axis(p, values, margin, min_width):
    """Narrow one axis around ``values`` in its transformed coordinate, inside its bounds."""
    if p.scale == "choice":
        unknown = [v for v in values if v not in p.values]
        if unknown:
            raise SignsError(f"{p.name}: top trial value {unknown[0]!r} is not one of {p.values}")
        return Param(p.name, "choice", values=[v for v in p.values if v in values])
    if not all(is_number(v) for v in values):
        raise SignsError(f"{p.name}: every top trial needs a finite number, got {values}")
    x = np.clip(np.asarray(values, dtype=float), p.low, p.high)
    full_lo, full_hi = sorted(_to_t(p.scale, [p.low, p.high]))
    t = _to_t(p.scale, x)
    pad = max(margin * (t.max() - t.min()), min_width * (full_hi - full_lo))
    ends = _from_t(p.scale, [max(t.min() - pad, full_lo), min(t.max() + pad, full_hi)])
    low = max(p.low, min(ends.min(), x.min()))  # never lose a top value to round-off
    high = min(p.high, max(ends.max(), x.max()))
    if p.scale == "int":
        return Param(p.name, "int", int(math.floor(low)), int(math.ceil(high)))
    return Param(p.name, p.scale, float(low), float(high))
