"""Drop-in replacement for the course's ``tf_utils.py``: ``signs_model.tf_utils`` under its course name."""
from signs_model.tf_utils import *  # noqa: F401,F403  (its __all__: the course helper's functions and imports)
