"""Drop-in replacement for the course's ``cnn_utils.py``: ``signs_model.cnn_utils`` under its course name."""
from signs_model.cnn_utils import *  # noqa: F401,F403  (its __all__: the helper's functions and imports)
