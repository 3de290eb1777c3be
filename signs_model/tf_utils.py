"""``signs_model.compat.tf_utils`` under the name ported code imports (see ``signs_model.compat``)."""
from .compat import alias

alias("tf_utils")
