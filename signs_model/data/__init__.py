"""The SIGNS data.

* ``course``: the course's HDF5 pair (find, read, check), flattening, one-hot labels, minibatches.
* ``split``: the dev split, stratified and seeded, near-duplicate photos kept on one side.
* ``photos``: a dataset in the course's format built from a folder of labelled photos.

The names of all three are importable from here (``from signs_model.data import load_signs``).
"""
from .course import (FILES, IMAGE_SHAPE, LFS_POINTER, N_X, REPO_ROOT, Signs, convert_to_one_hot,
                     data_info, find_data_dir, flatten, lfs_pointer, load_dataset, load_signs,
                     minibatch_permutation, random_mini_batches)
from .photos import build_dataset, write_dataset
from .split import (NEAR_DUPLICATE_DISTANCE, NEAR_DUPLICATE_POOL, check_fraction, dev_split,
                    grouped_mask, near_duplicate_groups, near_duplicate_pairs, stratified_mask)

__all__ = ["FILES", "IMAGE_SHAPE", "LFS_POINTER", "N_X", "NEAR_DUPLICATE_DISTANCE",
           "NEAR_DUPLICATE_POOL", "REPO_ROOT", "Signs", "build_dataset", "check_fraction",
           "convert_to_one_hot", "data_info", "dev_split", "find_data_dir", "flatten",
           "grouped_mask", "lfs_pointer", "load_dataset", "load_signs", "minibatch_permutation",
           "near_duplicate_groups", "near_duplicate_pairs", "random_mini_batches",
           "stratified_mask", "write_dataset"]
