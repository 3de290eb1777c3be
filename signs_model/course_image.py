"""``signs_model.compat.course_image`` under the name ported code imports (see ``signs_model.compat``)."""
from .compat import alias

alias("course_image")
