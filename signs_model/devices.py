"""CPU or GPU: the session configuration for ``device="cpu"|"gpu"|"auto"``."""
import tensorflow as tf2
import tensorflow.compat.v1 as tf

from .errors import SignsError

DEVICES = ("auto", "cpu", "gpu")


def gpus():
    """Names of the GPUs TensorFlow can use (empty on a CPU-only machine or build)."""
    return [d.name for d in tf2.config.list_physical_devices("GPU")]


def session_config(device="auto", threads=None):
    """A ConfigProto that pins the session to the CPU, requires a GPU, or lets TensorFlow choose.

    Args:
        device: "cpu" hides every GPU; "gpu" refuses to run without one (it is
            then TensorFlow's default placement); "auto" uses a GPU if one is seen.
        threads: intra-op threads (None: TensorFlow's default, one per core).
    """
    if device not in DEVICES:
        raise SignsError(f"device must be one of {', '.join(DEVICES)}, got {device!r}",
                         argument="device")
    config = tf.ConfigProto()
    config.gpu_options.allow_growth = True
    if threads:
        config.intra_op_parallelism_threads = threads
        config.inter_op_parallelism_threads = 1
    if device == "cpu":
        config.device_count["GPU"] = 0
    elif device == "gpu" and not gpus():
        raise SignsError("device 'gpu': TensorFlow sees no GPU on this machine (no CUDA device "
                         "or a CPU-only build); expected 'cpu' or 'auto' here", argument="device")
    return config


def describe(device="auto"):
    """A short label for logs and metrics: 'cpu' or 'gpu (N visible)'."""
    found = gpus()
    if device == "cpu" or not found:
        return "cpu"
    return f"gpu ({len(found)} visible)"
