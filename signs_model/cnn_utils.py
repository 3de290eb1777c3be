"""``signs_model.compat.cnn_utils`` under the name ported code imports (see ``signs_model.compat``)."""
from .compat import alias

alias("cnn_utils")
