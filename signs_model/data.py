"""The SIGNS data: find, read and check the course's HDF5 files, prepare them, split them.

The course files hold 64x64 RGB photos of hands showing 0-5 fingers:
``train_signs.h5`` (``train_set_x``, ``train_set_y``, ``list_classes``) and
``test_signs.h5`` (``test_set_x``, ``test_set_y``, ``list_classes``).
"""
import math
import os
from collections import namedtuple
from pathlib import Path

import numpy as np

from .errors import SignsError, is_number
from .files import owned, temp_path

IMAGE_SHAPE = (64, 64, 3)
N_X = int(np.prod(IMAGE_SHAPE))  # 12288 features per flattened image
FILES = {"train": "train_signs.h5", "test": "test_signs.h5"}
REPO_ROOT = Path(__file__).resolve().parent.parent

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


def check_fraction(fraction, name):
    """Refuse a split fraction outside (0, 1), naming the argument (``dev_fraction``, ``test_fraction``)."""
    if not (is_number(fraction) and 0 < fraction < 1):
        raise SignsError(f"{name} must be a number in (0, 1), got {fraction!r}", argument=name)


def stratified_mask(labels, fraction, seed=0, name="fraction"):
    """A seeded boolean mask choosing ``fraction`` of each class's examples (at least one).

    Args:
        labels: (m,) int class labels.
        name: what the caller calls ``fraction``, for the message if it is out of range.
    Returns:
        (m,) bool array, True for the chosen examples.
    """
    check_fraction(fraction, name)
    labels = np.asarray(labels)
    rng = np.random.RandomState(seed)
    chosen = np.zeros(labels.size, dtype=bool)
    for c in np.unique(labels):
        idx = np.flatnonzero(labels == c)
        n = max(1, int(round(fraction * idx.size)))
        chosen[rng.choice(idx, size=n, replace=False)] = True
    return chosen


# Near-duplicates: photos stored twice and frames of one burst. Measured on images averaged over
# NEAR_DUPLICATE_POOL x NEAR_DUPLICATE_POOL blocks (64x64 -> 16x16), as the RMS difference of
# their values in [0, 1]; the figures behind the threshold are in near_duplicate_pairs.
NEAR_DUPLICATE_POOL = 4
NEAR_DUPLICATE_DISTANCE = 0.05


def near_duplicate_pairs(X, threshold=NEAR_DUPLICATE_DISTANCE):
    """The pairs of examples closer than ``threshold``: near-identical photos.

    Distance: the RMS difference of two images averaged over 4x4 blocks
    (16x16x3 values in [0, 1]; pooling forgets JPEG noise and a pixel or two of
    shift). Columns that are not 64x64x3 images are compared as they are.

    Why 0.05, from the nearest-neighbour (NN) distances of SIGNS:

    * train (1080): 86 photos are stored twice (43 pairs at <= 0.0003, JPEG
      noise), then one pair at 0.0125 and a continuum of burst frames from
      0.023 (NN median 0.072). Under 0.05: 181 pairs, 232 photos (21%) have a
      twin, in groups of at most 12; above it different bursts of a pose start
      to chain (groups of 29 at 0.06, of 52 at 0.07).
    * test (120): its bursts are 2 photos at 0.000 and 6 at 0.026-0.031, then
      nothing below 0.075: 0.05 lies in that gap.
    * no link joins two signs: the closest photos of different signs are 0.058
      apart in train (0.071 test to train, 0.084 within test); every pair under
      0.05 shows the same sign.
    * 26 of the 120 test photos have a train twin under 0.05 (12 of them at
      0.007-0.009, the same photo), about as many as train photos have among
      themselves.

    Args:
        X: (n_x, m) float in [0, 1], one example per column.
        threshold: largest distance, exclusive, that still counts as a near-duplicate.
    Returns:
        (k, 2) int array of pairs (i, j), i < j, of column indices.
    """
    X = np.asarray(X, dtype=np.float32)
    n_x, m = X.shape
    F = X.T
    if n_x == N_X:
        side, k = IMAGE_SHAPE[0] // NEAR_DUPLICATE_POOL, NEAR_DUPLICATE_POOL
        F = F.reshape(m, side, k, side, k, IMAGE_SHAPE[2]).mean(axis=(2, 4)).reshape(m, -1)
    F = F.astype(np.float64)
    sq = (F * F).sum(axis=1)
    limit = threshold ** 2 * F.shape[1]  # squared RMS distance, times the length
    pairs = []
    for start in range(0, m, 1024):  # a block of rows at a time: memory 1024 x m, not m x m
        d2 = sq[start:start + 1024, None] + sq[None, :] - 2 * F[start:start + 1024] @ F.T
        i, j = np.nonzero(d2 < limit)
        i += start
        pairs.append(np.stack([i[i < j], j[i < j]], axis=1))
    return np.concatenate(pairs) if pairs else np.zeros((0, 2), dtype=int)


def near_duplicate_groups(X, threshold=NEAR_DUPLICATE_DISTANCE):
    """Group the examples so that near-duplicates share a group (linked pairs, transitively).

    Args:
        X: (n_x, m) float in [0, 1]; threshold: as in ``near_duplicate_pairs``.
    Returns:
        (m,) int group id per column, 0 .. G-1; a photo with no twin is a group of its own.

    Example:
        >>> X = np.zeros((N_X, 4), np.float32)
        >>> X[:, 1] = 0.01                      # photo 0, a shade lighter
        >>> X[:, 2:] = 1.0; X[0, 3] = 0.0       # 2 and 3: one pixel apart
        >>> near_duplicate_groups(X).tolist()
        [0, 0, 1, 1]
    """
    X = np.asarray(X)
    parent = np.arange(X.shape[1])

    def root(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]  # path halving keeps the trees flat
            i = parent[i]
        return i

    for i, j in near_duplicate_pairs(X, threshold):
        parent[root(i)] = root(j)
    return np.unique([root(i) for i in range(parent.size)], return_inverse=True)[1]


def grouped_mask(labels, groups, fraction, seed=0, name="fraction"):
    """A seeded mask choosing about ``fraction`` of each class's examples, in whole groups.

    Each group counts toward the class of its first example. Per class, the
    groups are shuffled and taken in turn if they fit in the target
    ``max(1, round(fraction * n))``: the count never exceeds it, and falls short
    only if every group of one is already taken, by less than the class's
    largest group.

    Args:
        labels: (m,) int class labels; groups: (m,) int group ids (``near_duplicate_groups``).
        name: what the caller calls ``fraction``, for the message if it is out of range.
    Returns:
        (m,) bool array, True for the chosen examples.
    """
    check_fraction(fraction, name)
    labels, groups = np.asarray(labels), np.asarray(groups)
    ids, first, sizes = np.unique(groups, return_index=True, return_counts=True)
    rng = np.random.RandomState(seed)
    taken = []
    for c in np.unique(labels[first]):
        mine = np.flatnonzero(labels[first] == c)
        target, n = max(1, int(round(fraction * sizes[mine].sum()))), 0
        for g in rng.permutation(mine):
            if n + sizes[g] <= target:
                taken.append(ids[g])
                n += sizes[g]
    return np.isin(groups, taken)


def dev_split(X, Y, fraction, seed=0, group_near_duplicates=True):
    """Carve a stratified, seeded dev set from (X, Y) that never splits a near-duplicate pair.

    Each class gives about ``fraction`` of its examples, in whole groups of
    ``near_duplicate_groups`` (``grouped_mask``): a photo and its twin from the
    same burst are both in train or both in dev, so dev accuracy does not reward
    remembering the twin. ``group_near_duplicates=False`` is the plain
    stratified random split (``stratified_mask``), kept for comparison.

    Returns:
        X_train, Y_train, X_dev, Y_dev (columns in their original order).
    """
    check_fraction(fraction, "dev_fraction")  # before comparing any photos
    labels = np.argmax(Y, axis=0)
    if group_near_duplicates:
        dev = grouped_mask(labels, near_duplicate_groups(X), fraction, seed, name="dev_fraction")
    else:
        dev = stratified_mask(labels, fraction, seed, name="dev_fraction")
    return X[:, ~dev], Y[:, ~dev], X[:, dev], Y[:, dev]


def write_dataset(out_dir, train, test, classes):
    """Write the course h5 pair atomically. ``train``/``test`` are (images uint8, labels int).

    Same keys, shapes and dtypes as the course's files, stored gzip-compressed
    with one image per chunk (the shipped ``datasets/`` was written this way):
    any HDF5 reader opens them unchanged, at about 60% of the raw size.
    """
    import h5py

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    with owned(out_dir, "data folder"):  # two builds into one folder would mix their pairs
        for split, (x, y) in (("train", train), ("test", test)):
            x = np.asarray(x, dtype=np.uint8)
            final = out_dir / FILES[split]
            tmp = temp_path(final)  # unique: two builds into one folder never collide
            with h5py.File(tmp, "w") as f:
                # chunks need a non-empty shape; an empty split (refused on reading) stays unchunked
                layout = dict(chunks=(1, *x.shape[1:]), compression="gzip") if x.size else {}
                f.create_dataset(f"{split}_set_x", data=x, **layout)
                f.create_dataset(f"{split}_set_y", data=np.asarray(y, dtype=np.int64))
                f.create_dataset("list_classes", data=np.asarray(classes, dtype=np.int64))
            os.replace(tmp, final)
    return out_dir


def build_dataset(folder, out_dir, test_fraction=0.1, seed=0):
    """Make the course h5 pair from a folder of photos (``signs data build``).

    Labels come from a leading ``<digit>_`` in a file name (``3_IMG_5012.jpg``, also
    ``sign_3_IMG_5012.jpg``) or from class subfolders (``3/IMG_5012.jpg``), as
    ``images.scan_photos`` reads them; photos without a label are left out and
    listed. Each image is converted to 64x64 RGB. The test split is stratified
    and seeded.

    Returns:
        dict with the output folder, the counts written and "skipped" (the paths
        of the photos without a label).
    """
    from .images import load_image, scan_photos

    check_fraction(test_fraction, "test_fraction")  # before reading any photo
    items, skipped = scan_photos(folder)
    images = np.stack([load_image(p) for p, _ in items])
    labels = np.array([label for _, label in items], dtype=np.int64)
    classes = np.arange(labels.max() + 1)
    order = np.random.RandomState(seed).permutation(labels.size)
    images, labels = images[order], labels[order]
    test = stratified_mask(labels, test_fraction, seed, name="test_fraction")
    if test.all():
        raise SignsError(f"test_fraction {test_fraction} puts all {labels.size} photos in the test "
                         f"set; expected a smaller test_fraction or more photos per class")
    write_dataset(out_dir, (images[~test], labels[~test]), (images[test], labels[test]), classes)
    return {"out_dir": str(out_dir), "train": int((~test).sum()), "test": int(test.sum()),
            "classes": classes.tolist(), "skipped": [str(path) for path in skipped]}
