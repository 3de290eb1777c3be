"""Data loading, checking, preparing and building; the course's tf_utils helpers."""
import shutil

import h5py
import numpy as np
import pytest

import tf_utils
from signs_model import data
from signs_model.errors import SignsError


def write_pair(folder, n_train=12, n_test=6, classes=6, **overrides):
    """A small valid pair of course-format files; ``overrides`` replace datasets by key
    (``"train:train_set_y": value``; None removes the key, a dict makes it an HDF5 group)."""
    rng = np.random.RandomState(0)
    folder.mkdir(parents=True, exist_ok=True)
    for split, n in (("train", n_train), ("test", n_test)):
        content = {f"{split}_set_x": rng.randint(0, 256, (n, 64, 64, 3)).astype(np.uint8),
                   f"{split}_set_y": np.arange(n) % classes,
                   "list_classes": np.arange(classes)}
        for key, value in overrides.items():
            if key.startswith(split + ":"):
                name = key.split(":", 1)[1]
                if value is None:
                    content.pop(name)
                else:
                    content[name] = value
        with h5py.File(folder / data.FILES[split], "w") as f:
            for name, value in content.items():
                if isinstance(value, dict):
                    f.create_group(name)
                else:
                    f.create_dataset(name, data=value)
    return folder


def test_load_dataset_course_shapes(data_dir):
    train_x, train_y, test_x, test_y, classes = tf_utils.load_dataset(data_dir)
    assert train_x.shape == (1080, 64, 64, 3) and train_x.dtype == np.uint8
    assert train_y.shape == (1, 1080) and test_y.shape == (1, 120)
    assert test_x.shape == (120, 64, 64, 3)
    np.testing.assert_array_equal(classes, np.arange(6))


def test_load_dataset_uses_env_then_cwd(data_dir, monkeypatch, tmp_path):
    monkeypatch.setenv("SIGNS_DATA_DIR", str(data_dir))
    assert tf_utils.load_dataset()[0].shape[0] == 1080
    monkeypatch.delenv("SIGNS_DATA_DIR")
    monkeypatch.chdir(tmp_path)
    write_pair(tmp_path / "datasets")  # the course's default: datasets/ beside the notebook
    assert tf_utils.load_dataset()[0].shape[0] == 12


def test_load_signs_prepares_as_the_course(signs, data_dir):
    train_x, train_y, *_ = data.load_dataset(data_dir)
    assert signs.X_train.shape == (12288, 1080) and signs.X_train.dtype == np.float32
    assert signs.X_train.max() <= 1.0 and signs.X_train.min() >= 0.0
    course_X = train_x.reshape(train_x.shape[0], -1).T / 255.0  # float64, as the course
    np.testing.assert_array_equal(signs.X_train, course_X.astype(np.float32))
    np.testing.assert_array_equal(signs.Y_train, tf_utils.convert_to_one_hot(train_y, 6))
    assert signs.Y_train.sum(axis=0).tolist() == [1.0] * 1080


def test_random_mini_batches_as_the_course():
    X = np.arange(2 * 148).reshape(2, 148).astype(float)
    Y = (np.arange(148) % 6)[None, :]
    batches = tf_utils.random_mini_batches(X, Y, mini_batch_size=64, seed=7)
    assert [b[0].shape[1] for b in batches] == [64, 64, 20]
    np.random.seed(7)
    order = np.random.permutation(148)
    np.testing.assert_array_equal(np.hstack([b[0] for b in batches]), X[:, order])
    np.testing.assert_array_equal(np.hstack([b[1] for b in batches]), Y[:, order])
    np.testing.assert_array_equal(data.minibatch_permutation(148, 7), order)
    assert len(tf_utils.random_mini_batches(X, Y, 74, 0)) == 2  # exact multiple: no empty batch


def test_convert_to_one_hot():
    np.testing.assert_array_equal(tf_utils.convert_to_one_hot(np.array([[1, 0, 2]]), 3),
                                  [[0, 1, 0], [1, 0, 0], [0, 0, 1]])


def test_dev_split_is_stratified_and_seeded(signs):
    Xa, Ya, Xd, Yd = data.dev_split(signs.X_train, signs.Y_train, 0.2, seed=1)
    assert Xd.shape[1] == 216 and Xa.shape[1] == 864
    assert Yd.sum(axis=1).tolist() == [36.0] * 6
    again = data.dev_split(signs.X_train, signs.Y_train, 0.2, seed=1)
    np.testing.assert_array_equal(again[2], Xd)
    assert not np.array_equal(data.dev_split(signs.X_train, signs.Y_train, 0.2, seed=2)[2], Xd)
    with pytest.raises(SignsError) as e:
        data.dev_split(signs.X_train, signs.Y_train, 1.5)
    assert str(e.value) == "dev_fraction must be a number in (0, 1), got 1.5"


def test_data_info(data_dir, run_cli):
    info = data.data_info(data_dir)
    assert info["train"]["per_class"] == [180] * 6 and info["test"]["per_class"] == [20] * 6
    code, out, _ = run_cli("data", "info", "--data-dir", data_dir)
    assert code == 0 and "per class [180, 180, 180, 180, 180, 180]" in out


BAD_FILES = {
    "missing": ("data file not found", None),
    "not hdf5": ("not a readable HDF5 file", None),
    "truncated": ("not a readable HDF5 file", None),
    "missing key": ("missing key(s) train_set_y", {"train:train_set_y": None}),
    "wrong shape": ("expected (m, 64, 64, 3) uint8",
                    {"train:train_set_x": np.zeros((12, 32, 32, 3), np.uint8)}),
    "wrong dtype": ("expected (m, 64, 64, 3) uint8",
                    {"train:train_set_x": np.zeros((12, 64, 64, 3), np.float32)}),
    "label count": ("one label per image", {"train:train_set_y": np.zeros(5, int)}),
    "float labels": ("integers", {"train:train_set_y": np.zeros(12)}),
    "label range": ("labels [7] are outside the classes 0..5",
                    {"train:train_set_y": np.array([7] + [0] * 11)}),
    "class mismatch": ("differ from test classes", {"test:list_classes": np.array([0, 1, 2, 3, 4, 9])}),
    "group, not dataset": ("train_set_x is an HDF5 Group, not a dataset; "
                           "expected train_set_x to be an array", {"train:train_set_x": {}}),
    "no train images": ("train_set_x holds no images; expected at least one",
                        {"train:train_set_x": np.zeros((0, 64, 64, 3), np.uint8),
                         "train:train_set_y": np.zeros(0, np.int64)}),
    "no test images": ("test_set_x holds no images; expected at least one",
                       {"test:test_set_x": np.zeros((0, 64, 64, 3), np.uint8),
                        "test:test_set_y": np.zeros(0, np.int64)}),
    "scalar classes": ("list_classes has shape ()", {"test:list_classes": np.int64(6)}),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_bad_data_files_one_clear_line(case, tmp_path, run_cli, data_dir):
    message, overrides = BAD_FILES[case]
    folder = tmp_path / "d"
    write_pair(folder, **(overrides or {}))
    train_file = folder / data.FILES["train"]
    if case == "missing":
        train_file.unlink()
    elif case == "not hdf5":
        train_file.write_text("this is not an HDF5 file\n")
    elif case == "truncated":
        real = (data_dir / data.FILES["train"]).read_bytes()
        train_file.write_bytes(real[: len(real) // 2])
    with pytest.raises(SignsError) as e:
        data.load_dataset(folder)
    assert message in str(e.value) and "\n" not in str(e.value)
    code, out, err = run_cli("data", "info", "--data-dir", folder)
    assert code == 2 and err.startswith("signs: error: ") and err.count("\n") == 1
    assert "Traceback" not in err


def test_missing_file_says_where_it_looked_and_how_to_point(tmp_path):
    with pytest.raises(SignsError) as e:
        data.load_dataset(tmp_path)
    assert str(tmp_path) in str(e.value) and "SIGNS_DATA_DIR" in str(e.value)


def test_build_from_folder_round_trip(tmp_path, own_images, run_cli):
    src = tmp_path / "photos"
    src.mkdir()
    for p in own_images:
        shutil.copy(p, src / p.name)
    (src / "notes.txt").write_text("no label prefix: ignored")
    shutil.copy(own_images[0], src / "IMG_0004_edit.jpg")  # a camera's counter is no label
    code, out, err = run_cli("data", "build", "--from", src, "--out", tmp_path / "built",
                             "--test-fraction", "0.5")
    assert code == 0
    assert err == (f"signs: warning: {src / 'IMG_0004_edit.jpg'}: no label, left out; expected "
                   f"photos named <digit>_*.jpg (3_hand.jpg) or in class folders 0/ ... 9/\n")
    train_x, train_y, test_x, test_y, classes = data.load_dataset(tmp_path / "built")
    assert train_x.shape == (6, 64, 64, 3) and test_x.shape == (6, 64, 64, 3)
    assert sorted(train_y.ravel().tolist()) == list(range(6)) == sorted(test_y.ravel().tolist())
    # class subfolders work too, and a non-image in a labelled folder is a clear error
    (tmp_path / "sub" / "3").mkdir(parents=True)
    shutil.copy(own_images[0], tmp_path / "sub" / "3" / "a.jpg")
    shutil.copy(own_images[1], tmp_path / "sub" / "3" / "b.jpg")
    data.build_dataset(tmp_path / "sub", tmp_path / "built2", 0.5)
    assert data.load_dataset(tmp_path / "built2")[1].ravel().tolist() == [3]
    (tmp_path / "sub" / "3" / "c.jpg").write_text("not a photo")
    code, _, err = run_cli("data", "build", "--from", tmp_path / "sub", "--out", tmp_path / "x")
    assert code == 2 and "c.jpg: not a readable image" in err
    code, _, err = run_cli("data", "build", "--from", tmp_path / "nowhere", "--out", tmp_path / "x")
    assert code == 2 and "not a folder" in err


def test_written_files_are_compressed_one_image_per_chunk(tmp_path):
    rng = np.random.RandomState(0)
    train = rng.randint(0, 256, (7, 64, 64, 3)).astype(np.uint8), np.arange(7) % 6
    test = rng.randint(0, 256, (6, 64, 64, 3)).astype(np.uint8), np.arange(6)
    data.write_dataset(tmp_path, train, test, np.arange(6))
    for split in ("train", "test"):
        with h5py.File(tmp_path / data.FILES[split], "r") as f:
            x = f[f"{split}_set_x"]
            assert x.chunks == (1, 64, 64, 3) and x.compression == "gzip"
            assert f[f"{split}_set_y"].dtype == np.int64 and f["list_classes"].dtype == np.int64
    train_x, train_y, test_x, test_y, classes = data.load_dataset(tmp_path)
    np.testing.assert_array_equal(train_x, train[0])
    np.testing.assert_array_equal(test_x, test[0])
    np.testing.assert_array_equal(train_y.ravel(), train[1])
    assert not list(tmp_path.glob("*.tmp")) and not list(tmp_path.glob(".tmp-*"))


def test_the_repo_ships_the_compressed_data():
    folder = data.REPO_ROOT / "datasets"
    for split, m in (("train", 1080), ("test", 120)):
        with h5py.File(folder / data.FILES[split], "r") as f:
            x = f[f"{split}_set_x"]
            assert x.shape == (m, 64, 64, 3) and x.dtype == np.uint8
            assert x.chunks == (1, 64, 64, 3) and x.compression == "gzip"
    total = sum((folder / name).stat().st_size for name in data.FILES.values())
    assert total < 12 * 2**20  # about 9 MB compressed; 14.7 MB raw


def test_build_names_test_fraction(tmp_path, own_images, run_cli):
    range_error = "argument --test-fraction: test_fraction must be a number in (0, 1), got"
    for value, message in (("0", f"{range_error} 0.0"), ("1", f"{range_error} 1.0"),
                           # 2 photos per class, 0.9 of 2 rounds to 2: none left to train on
                           ("0.9", "test_fraction 0.9 puts all 12 photos in the test set; "
                                   "expected a smaller test_fraction or more photos per class")):
        code, out, err = run_cli("data", "build", "--from", own_images[0].parent,
                                 "--out", tmp_path / "built", "--test-fraction", value)
        assert code == 2 and err == f"signs: error: {message}\n" and out == ""
    assert not (tmp_path / "built").exists()  # refused before writing anything
    with pytest.raises(SignsError, match="^test_fraction must be a number in \\(0, 1\\), got 'x'$"):
        data.build_dataset(tmp_path / "nowhere", tmp_path / "built", "x")  # before the folder
