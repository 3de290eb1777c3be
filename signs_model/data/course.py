"""The course's files: find, read and check the SIGNS HDF5 pair; flatten, one-hot, minibatches.

The course files hold 64x64 RGB photos of hands showing 0-5 fingers:
``train_signs.h5`` (``train_set_x``, ``train_set_y``, ``list_classes``) and
``test_signs.h5`` (``test_set_x``, ``test_set_y``, ``list_classes``).
"""
import math
import os
from collections import namedtuple
from pathlib import Path

import numpy as np

from ..errors import SignsError

IMAGE_SHAPE = (64, 64, 3)
N_X = int(np.prod(IMAGE_SHAPE))  # 12288 features per flattened image
FILES = {"train": "train_signs.h5", "test": "test_signs.h5"}
REPO_ROOT = Path(__file__).resolve().parents[2]

# X: (n_x, m) float32 in [0, 1]; Y: (C, m) one-hot float32; y: (m,) int labels.
Signs = namedtuple("Signs", "X_train Y_train X_test Y_test y_train y_test classes")


def find_data_dir(data_dir=None):
    """Where the h5 files are: the argument, else $SIGNS_DATA_DIR, else ``datasets/``.

    ``datasets/`` is looked for in the working directory (as the course notebook
    did) and then in the repository root.
    """
    if data_dir is not None:
        return Path(data_dir)
    if os.environ.get("SIGNS_DATA_DIR"):
        return Path(os.environ["SIGNS_DATA_DIR"])
    for candidate in (Path("datasets"), REPO_ROOT / "datasets"):
        if (candidate / FILES["train"]).exists():
            return candidate
    return Path("datasets")


LFS_POINTER = b"version https://git-lfs.github.com/spec/"


def lfs_pointer(path):
    """One line if ``path`` is a Git LFS pointer (a small text file standing for the real one), else None."""
    try:
        with open(path, "rb") as f:
            head = f.read(len(LFS_POINTER))
    except OSError:
        return None
    if head != LFS_POINTER:
        return None
    return (f"{path} is a Git LFS pointer, not the data file itself; fetch the real file with "
            f"`git lfs pull` in the repository it came from")


def _read_split(path, split):
    """Read one course h5 file and check keys, shapes, dtypes; returns (x, y, classes)."""
    import h5py

    if not path.exists():
        raise SignsError(f"data file not found: {path}; expected the folder holding the course's "
                         f"{FILES[split]} (data_dir, or $SIGNS_DATA_DIR)", argument="data_dir")
    pointer = lfs_pointer(path)
    if pointer:
        raise SignsError(pointer)
    try:
        with h5py.File(path, "r") as f:
            keys = (f"{split}_set_x", f"{split}_set_y", "list_classes")
            missing = [k for k in keys if k not in f]
            if missing:
                raise SignsError(f"{path}: missing key(s) {', '.join(missing)}; "
                                 f"expected {split}_set_x, {split}_set_y, list_classes")
            for k in keys:
                if not isinstance(f[k], h5py.Dataset):
                    kind = type(f[k]).__name__  # Group or Datatype
                    raise SignsError(f"{path}: {k} is an HDF5 {kind}, not a dataset; "
                                     f"expected {k} to be an array")
            # [()] reads any shape, even a scalar; the checks below then name what is wrong
            x, y, classes = (np.array(f[k][()]) for k in keys)
    except SignsError:
        raise
    except (OSError, KeyError, ValueError) as e:
        raise SignsError(f"{path}: not a readable HDF5 file ({str(e).splitlines()[0]}); "
                         f"expected the course's {FILES[split]}") from None
    if x.ndim != 4 or x.shape[1:] != IMAGE_SHAPE or x.dtype != np.uint8:
        raise SignsError(f"{path}: {split}_set_x has shape {x.shape} dtype {x.dtype}; "
                         f"expected (m, 64, 64, 3) uint8")
    if x.shape[0] == 0:
        raise SignsError(f"{path}: {split}_set_x holds no images; expected at least one")
    if y.ndim != 1 or y.shape[0] != x.shape[0] or not np.issubdtype(y.dtype, np.integer):
        raise SignsError(f"{path}: {split}_set_y has shape {y.shape} dtype {y.dtype}; "
                         f"expected ({x.shape[0]},) integers, one label per image")
    if classes.ndim != 1 or classes.size == 0:
        raise SignsError(f"{path}: list_classes has shape {classes.shape}; expected (C,) class labels")
    bad = np.setdiff1d(np.unique(y), np.arange(classes.size))
    if bad.size:
        raise SignsError(f"{path}: labels {bad.tolist()} are outside the classes 0..{classes.size - 1}")
    return x, y, classes


def load_dataset(data_dir=None):
    """The course's ``load_dataset()``: raw images and labels, checked.

    Returns:
        train_x (m_train, 64, 64, 3) uint8, train_y (1, m_train) int,
        test_x (m_test, 64, 64, 3) uint8, test_y (1, m_test) int, classes (C,).
    """
    folder = find_data_dir(data_dir)
    train_x, train_y, train_classes = _read_split(folder / FILES["train"], "train")
    test_x, test_y, classes = _read_split(folder / FILES["test"], "test")
    if not np.array_equal(train_classes, classes):
        raise SignsError(f"train classes {train_classes.tolist()} differ from test classes "
                         f"{classes.tolist()}; both files must list the same classes")
    return train_x, train_y.reshape(1, -1), test_x, test_y.reshape(1, -1), classes


def flatten(images):
    """(m, 64, 64, 3) uint8 -> (12288, m) float32 in [0, 1], the course's ``reshape(m, -1).T / 255``.

    The division is done in float64 as the course did, then rounded to float32,
    which is exactly what feeding the course's float64 array to a float32
    placeholder does.
    """
    images = np.asarray(images)
    return (images.reshape(images.shape[0], -1).T / 255.0).astype(np.float32)


def convert_to_one_hot(Y, C):
    """Labels of any shape -> (C, m) one-hot, column j for example j."""
    return np.eye(C)[np.asarray(Y).reshape(-1)].T


def load_signs(data_dir=None):
    """Load, check and prepare SIGNS for training: flattened, /255, one-hot. Returns `Signs`."""
    train_x, train_y, test_x, test_y, classes = load_dataset(data_dir)
    C = classes.size
    return Signs(flatten(train_x), convert_to_one_hot(train_y, C).astype(np.float32),
                 flatten(test_x), convert_to_one_hot(test_y, C).astype(np.float32),
                 train_y.ravel(), test_y.ravel(), classes)


def data_info(data_dir=None):
    """Shapes and per-class counts of both files, as a dict (what ``signs data info`` prints)."""
    folder = find_data_dir(data_dir)
    train_x, train_y, test_x, test_y, classes = load_dataset(folder)
    info = {"data_dir": str(folder), "classes": classes.tolist()}
    for split, x, y in (("train", train_x, train_y), ("test", test_x, test_y)):
        counts = np.bincount(y.ravel(), minlength=classes.size)
        info[split] = {"file": str(folder / FILES[split]), "x_shape": list(x.shape),
                       "y_shape": list(y.shape), "per_class": counts.tolist()}
    return info


def minibatch_permutation(m, seed):
    """The example order ``random_mini_batches`` uses for ``seed`` (``np.random.seed`` + permutation)."""
    return np.random.RandomState(seed).permutation(m)


def random_mini_batches(X, Y, mini_batch_size=64, seed=0):
    """The course helper: shuffle the columns of (X, Y) with ``seed`` and cut them into minibatches.

    Like the course, it reseeds NumPy's global generator. The last minibatch
    holds the remaining ``m % mini_batch_size`` examples.

    Returns:
        list of (mini_batch_X (n_x, b), mini_batch_Y (n_y, b)).
    """
    m = X.shape[1]
    np.random.seed(seed)
    order = np.random.permutation(m)
    X, Y = X[:, order], Y[:, order].reshape((Y.shape[0], m))
    starts = range(0, mini_batch_size * math.ceil(m / mini_batch_size), mini_batch_size)
    return [(X[:, k:k + mini_batch_size], Y[:, k:k + mini_batch_size]) for k in starts]
