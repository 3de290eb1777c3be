"""``signs_model.compat.colab`` under the name ported code imports (see ``signs_model.compat``)."""
from .compat import alias

alias("colab")
