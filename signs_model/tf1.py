"""``signs_model.compat.tf1`` under the name ported code imports (see ``signs_model.compat``)."""
from .compat import alias

alias("tf1")
