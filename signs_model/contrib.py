"""``signs_model.compat.contrib`` under the name ported code imports (see ``signs_model.compat``)."""
from .compat import alias

alias("contrib")
