"""What makes course code written for TensorFlow 1.x run here.

* ``tf1``: the ``tf.compat.v1`` namespace in graph mode, with ``tf.contrib.layers`` (``contrib``).
* ``tf_utils``, ``cnn_utils``: drop-ins for the course's helper modules.
* ``course_image``: ``scipy.misc``/``scipy.ndimage`` image functions the course used.
* ``colab``: ``google.colab`` where there is no Colab.
* ``port``, ``port_rules``, ``port_folder``, ``port_run``, ``port_check``: ``signs port``,
  which rewrites old notebooks and scripts to use the above, runs them and checks them;
  ``notebooks``: the kernel that runs a notebook on this interpreter.

Ported code imports them under their short names (``import signs_model.tf1 as tf``,
``from signs_model.tf_utils import ...``): those names are this package's modules
themselves (``alias``), not copies.
"""
import importlib
import sys

def alias(short):
    """Make ``signs_model.<short>`` (and its imported submodules) this package's module; returns it."""
    module = importlib.import_module(f"{__name__}.{short}")
    prefix = f"{__name__}.{short}"
    for name, loaded in list(sys.modules.items()):
        if name == prefix or name.startswith(prefix + "."):
            sys.modules["signs_model" + name[len(__name__):]] = loaded
    return module
