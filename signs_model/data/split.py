"""The dev split: stratified and seeded, with near-duplicate photos kept on one side."""
import numpy as np

from ..settings import check_fraction
from .course import IMAGE_SHAPE, N_X


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
