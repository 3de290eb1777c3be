"""``google.colab`` where there is no Colab: ``drive.mount`` and the rest do nothing.

``signs port`` rewrites ``from google.colab import drive`` to import from here,
so a notebook saved from Colab runs past its first cell; its files are then read
from the notebook's own folder (``signs port`` notes every ``/content/...`` path).
"""


class _Nothing:
    """Any attribute, called with anything, does nothing and returns None."""

    def __init__(self, name):
        self._name = name

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return _Nothing(f"{self._name}.{name}")

    def __call__(self, *args, **kwargs):
        return None

    def __repr__(self):
        return f"<google.colab.{self._name}: does nothing outside Colab (signs_model.colab)>"


def __getattr__(name):
    if name.startswith(("_", "pytest")):  # not Colab's: tools that probe modules (pytest, doctest)
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return _Nothing(name)
