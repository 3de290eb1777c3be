"""A dataset in the course's format built from a folder of labelled photos (``signs data build``)."""
import os
from pathlib import Path

import numpy as np

from ..atomic import owned, temp_path
from ..errors import SignsError
from ..settings import DEFAULTS
from .course import FILES
from .split import check_fraction, stratified_mask


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


def build_dataset(folder, out_dir, test_fraction=DEFAULTS["test_fraction"], seed=0):
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
    from ..images import load_image, scan_photos

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
