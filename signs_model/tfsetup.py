"""The one place where TensorFlow is configured: quiet logs and TF1 graph mode.

Every module of the package imports TensorFlow as ``import tensorflow.compat.v1
as tf``; this module runs first (from ``signs_model/__init__.py``) so that the
log level is set before TensorFlow loads and graph mode is on before any graph
is built.
"""
import os
import sys

# C++ start-up chatter (CUDA probes on a CPU machine, oneDNN notices).
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def _import_tensorflow_quietly():
    """Import TensorFlow with file descriptor 2 silenced.

    TF 2.21 prints absl "I0000 ..." notices (CUDA drivers not found, oneDNN)
    from C++ before any log level applies; they are noise on a CPU machine.
    Set TF_CPP_MIN_LOG_LEVEL=0 to see them.
    """
    if os.environ["TF_CPP_MIN_LOG_LEVEL"] == "0":
        import tensorflow
        return tensorflow
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            try:
                import tensorflow
            finally:
                os.dup2(saved, 2)
    finally:
        os.close(saved)
    return tensorflow


def _one_line_on_ctrl_c():
    """Ctrl-C while TensorFlow loads (seconds): a script or the ``signs`` command stops with one
    line instead of a traceback (the interrupt still ends the process); an interactive session
    keeps the usual report."""
    if hasattr(sys, "ps1") or "IPython" in sys.modules:
        return
    shown = sys.excepthook

    def hook(kind, value, traceback):
        if issubclass(kind, KeyboardInterrupt):
            print("interrupted while loading TensorFlow; nothing was done", file=sys.stderr)
        else:
            shown(kind, value, traceback)
    sys.excepthook = hook


try:
    _tf = _import_tensorflow_quietly()
except KeyboardInterrupt:
    _one_line_on_ctrl_c()
    raise

_tf.get_logger().setLevel("ERROR")
try:  # absl prints deprecation notices through its own logger
    from absl import logging as _absl_logging

    _absl_logging.set_verbosity(_absl_logging.ERROR)
except ImportError:  # pragma: no cover
    pass

# TF 1.x behaviour: graph mode, placeholders, ref variables (so reprs read
# ``float32_ref`` and unknown dimensions print as ``?``, as in the course).
_tf.compat.v1.disable_v2_behavior()
