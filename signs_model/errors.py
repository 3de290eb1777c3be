"""The package's exceptions, and the number checks behind them.

``SignsError`` is bad input: the CLI turns it into one line on stderr and a
non-zero exit; library users catch it (it is a ``ValueError``) or let it
propagate. ``Diverged`` and ``Stopped`` are how training ends early.
"""
import math
import numbers


class SignsError(ValueError):
    """A user-facing error: the message names what was wrong and what was expected.

    Args:
        argument: the name of the argument at fault (``seed``, ``data_dir``), if
            one is; the CLI names its flag (``--seed``) from it.
    """

    def __init__(self, message, argument=None):
        super().__init__(message)
        self.argument = argument


class Diverged(SignsError):
    """Training's cost became NaN or infinite."""


class Stopped(Exception):
    """Training stopped early because its ``on_epoch`` hook asked it to (not an error).

    Args:
        reason: "stopped after N epochs: " and the hook's reason.
        metrics: what was measured when it stopped: the accuracies the hook asked
            for, final_cost, epochs, seconds (also in the run folder's stopped.json).
    """

    def __init__(self, reason, metrics):
        super().__init__(reason)
        self.metrics = metrics


def is_number(v):
    """A finite int or float, and not a bool (True is an int to Python, not a learning rate)."""
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def check_int(name, value, low=1):
    """``value`` if it is an int >= ``low`` (not a bool), else a SignsError naming ``name``."""
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < low:
        raise SignsError(f"{name} must be an int >= {low}, got {value!r}", argument=name)
    return value
