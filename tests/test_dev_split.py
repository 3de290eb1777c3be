"""The dev split keeps near-duplicate photos on one side, stays stratified and seeded.

The pairs under the threshold are found here by brute force (every pair, the
RMS difference written out), not by ``data.near_duplicate_pairs``.
"""
import numpy as np
import pytest

from signs_model import data
from signs_model.errors import SignsError

SPLITS = [(seed, fraction) for seed in (0, 1, 7) for fraction in (0.1, 0.2, 0.5)]


def pooled(X):
    """(n_x, m) images -> (m, 768): each 64x64x3 image averaged over 4x4 blocks, float64."""
    images = X.T.astype(np.float64).reshape(-1, 64, 64, 3)
    return sum(images[:, a::4, b::4] for a in range(4) for b in range(4)).reshape(len(images), -1) / 16


def brute_force_pairs(X, threshold=data.NEAR_DUPLICATE_DISTANCE):
    P = pooled(X)
    pairs = []
    for i in range(len(P) - 1):
        rms = np.sqrt(((P[i + 1:] - P[i]) ** 2).mean(axis=1))
        pairs += [(i, i + 1 + j) for j in np.flatnonzero(rms < threshold)]
    return pairs


def dev_columns(X, X_dev):
    """Which columns of X went to dev (a column stored twice bit for bit counts as both)."""
    dev = {X_dev[:, k].tobytes() for k in range(X_dev.shape[1])}
    return np.array([X[:, i].tobytes() in dev for i in range(X.shape[1])])


@pytest.fixture(scope="module")
def train_pairs(signs):
    return brute_force_pairs(signs.X_train)


def test_library_pairs_are_the_brute_force_pairs(signs, train_pairs):
    assert len(train_pairs) == 181  # the figure near_duplicate_pairs' docstring quotes
    assert sorted(map(tuple, data.near_duplicate_pairs(signs.X_train).tolist())) == train_pairs


@pytest.mark.parametrize("seed, fraction", SPLITS)
def test_dev_split_never_separates_near_duplicates(signs, train_pairs, seed, fraction):
    X_tr, Y_tr, X_dev, Y_dev = data.dev_split(signs.X_train, signs.Y_train, fraction, seed)
    dev = dev_columns(signs.X_train, X_dev)
    assert dev.sum() == X_dev.shape[1] and X_tr.shape[1] + X_dev.shape[1] == 1080
    assert [(i, j) for i, j in train_pairs if dev[i] != dev[j]] == []
    # the plain random split, kept for comparison, does separate some of them
    _, _, X_rand, _ = data.dev_split(signs.X_train, signs.Y_train, fraction, seed,
                                     group_near_duplicates=False)
    rand = dev_columns(signs.X_train, X_rand)
    assert sum(rand[i] != rand[j] for i, j in train_pairs) > 0


@pytest.mark.parametrize("seed, fraction", SPLITS)
def test_dev_split_is_stratified_within_its_derived_tolerance(signs, seed, fraction):
    # Groups are taken whole while they fit in a class's target max(1, round(fraction * n)):
    # never above it, below it only once every group of one is taken, and then by less than
    # the class's largest group. SIGNS has more groups of one per class than any target here,
    # so every class gets its target exactly.
    groups = data.near_duplicate_groups(signs.X_train)
    sizes = np.bincount(groups)[groups]
    Y_dev = data.dev_split(signs.X_train, signs.Y_train, fraction, seed)[3]
    for c, count in enumerate(Y_dev.sum(axis=1)):
        in_class = signs.y_train == c
        target = max(1, round(fraction * in_class.sum()))
        assert 0 <= target - count < sizes[in_class].max()
        if (sizes[in_class] == 1).sum() > target:
            assert count == target


def test_dev_split_is_seeded(signs):
    X, Y = signs.X_train, signs.Y_train
    first = data.dev_split(X, Y, 0.2, seed=5)
    for a, b in zip(first, data.dev_split(X, Y, 0.2, seed=5)):
        np.testing.assert_array_equal(a, b)
    other = dev_columns(X, data.dev_split(X, Y, 0.2, seed=6)[2])
    assert (other != dev_columns(X, first[2])).sum() > 100  # another split, not a few swaps


def test_planted_duplicates_and_noisy_copies_stay_together():
    # 60 random photos, 10 per class, two pooled values apart by about 0.10 RMS (twice the
    # threshold). Planted: an exact copy of photos 0-11, and a chain photo -> copy with
    # noise -> copy of that copy with noise for photos 12-23 (noise 0.02 per pixel: about
    # 0.005 after pooling, 0.007 between the chain's ends).
    rng = np.random.RandomState(0)
    base = rng.uniform(size=(data.N_X, 60)).astype(np.float32)
    labels = np.arange(60) % 6
    noisy = np.clip(base[:, 12:24] + rng.normal(0, 0.02, (data.N_X, 12)), 0, 1)
    noisier = np.clip(noisy + rng.normal(0, 0.02, (data.N_X, 12)), 0, 1)
    X = np.hstack([base, base[:, :12], noisy, noisier]).astype(np.float32)
    family = np.r_[np.arange(60), np.arange(12), np.arange(12, 24), np.arange(12, 24)]
    Y = data.convert_to_one_hot(labels[family], 6).astype(np.float32)

    groups = data.near_duplicate_groups(X)
    same_group = groups[:, None] == groups[None, :]
    np.testing.assert_array_equal(same_group, family[:, None] == family[None, :])
    for seed, fraction in SPLITS:
        dev = dev_columns(X, data.dev_split(X, Y, fraction, seed)[2])
        for f in range(24):
            assert len(set(dev[family == f])) == 1, (seed, fraction, f)
    # columns that are not 64x64x3 images are compared as they are
    features = np.array([[0.0, 0.04, 0.2], [0.0, 0.0, 0.0]])  # RMS 0.028 and 0.141 from the first
    assert data.near_duplicate_groups(features).tolist() == [0, 0, 1]


@pytest.mark.parametrize("fraction", [1.5, 0, 1, "x"])
def test_bad_fraction_one_line_naming_dev_fraction(signs, fraction):
    for grouped in (True, False):
        with pytest.raises(SignsError) as e:
            data.dev_split(signs.X_train, signs.Y_train, fraction, group_near_duplicates=grouped)
        assert str(e.value) == f"dev_fraction must be a number in (0, 1), got {fraction!r}"
    with pytest.raises(SignsError, match="^dev_fraction must"):
        data.dev_split(None, None, fraction)  # refused before looking at any photo
