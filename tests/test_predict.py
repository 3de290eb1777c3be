"""Predicting your own photos: the course helper, a run folder, the CLI, bad files."""
import json
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

import tf_utils
from signs_model import predict, train
from signs_model.config import TrainConfig
from signs_model.data import flatten
from signs_model.errors import SignsError
from signs_model.images import load_image

from tolerances import softmax_atol


@pytest.fixture(scope="module")
def run_dir(signs, tmp_path_factory):
    folder = tmp_path_factory.mktemp("run")
    train.train(TrainConfig(num_epochs=40, learning_rate=1e-3), signs.X_train, signs.Y_train,
                {"test": (signs.X_test, signs.Y_test)}, run_dir=folder, progress=False)
    return folder


def numpy_forward(X, p):
    A = X
    for l in (1, 2, 3):
        Z = p[f"W{l}"] @ A + p[f"b{l}"]
        A = np.maximum(Z, 0)
    return Z


def test_course_predict_one_column_or_many(run_dir, signs):
    parameters = predict.load_parameters(run_dir)
    X = signs.X_test[:, :10]
    expected = np.argmax(numpy_forward(X, parameters), axis=0)
    np.testing.assert_array_equal(tf_utils.predict(X, parameters), expected)
    assert tf_utils.predict(X[:, 3], parameters).tolist() == [expected[3]]
    assert tf_utils.predict(X[:, 3:4], parameters).tolist() == [expected[3]]


def test_load_image_converts_any_photo(tmp_path, own_images):
    base = load_image(own_images[0])
    assert base.shape == (64, 64, 3) and base.dtype == np.uint8
    rgb = Image.open(own_images[0]).convert("RGB")
    rgb.convert("L").save(tmp_path / "gray.png")
    assert load_image(tmp_path / "gray.png").shape == (64, 64, 3)
    rgba = rgb.convert("RGBA")
    rgba.putalpha(0)  # fully transparent: composited on white
    rgba.save(tmp_path / "alpha.png")
    assert load_image(tmp_path / "alpha.png").min() == 255
    # EXIF orientation 6 (rotate 90° on display) is applied before resizing
    wide = Image.new("RGB", (80, 40), (255, 0, 0))
    wide.paste((0, 0, 255), (0, 0, 40, 40))  # left half blue
    exif = Image.Exif()
    exif[0x0112] = 6
    wide.save(tmp_path / "rotated.jpg", exif=exif, quality=95)
    img = load_image(tmp_path / "rotated.jpg").astype(int)
    assert img[5, 32, 2] > 200 and img[60, 32, 0] > 200  # blue on top, red below


def write_png16(path, samples):
    """A 16-bit PNG written byte by byte (Pillow cannot write 16-bit RGB):
    ``samples`` is (h, w) gray or (h, w, 3) RGB uint16."""
    h, w = samples.shape[:2]
    color_type = 0 if samples.ndim == 2 else 2
    rows = b"".join(b"\x00" + samples[i].astype(">u2").tobytes() for i in range(h))  # filter 0

    def chunk(kind, body):
        crc = zlib.crc32(kind + body)
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", w, h, 16, color_type, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
                     + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


# every 16-bit level from black to white, 64x64 so that resizing leaves the pixels alone
GRADIENT_16 = np.linspace(0, 65535, 64 * 64).round().astype(np.uint16).reshape(64, 64)


@pytest.mark.parametrize("kind", ["gray PNG", "RGB PNG", "gray TIFF", "32-bit TIFF", "float TIFF"])
def test_load_image_scales_high_bit_depth(tmp_path, kind):
    """16-bit and float samples are scaled to 8 bits, not clipped at 255 (which reads as white)."""
    path = tmp_path / ("image.png" if "PNG" in kind else "image.tif")
    if kind == "gray PNG":
        write_png16(path, GRADIENT_16)
    elif kind == "RGB PNG":
        write_png16(path, np.stack([GRADIENT_16, 65535 - GRADIENT_16, GRADIENT_16 // 2], axis=-1))
    elif kind == "gray TIFF":
        Image.fromarray(GRADIENT_16).save(path)  # mode "I;16"
    elif kind == "32-bit TIFF":
        Image.fromarray(GRADIENT_16.astype(np.int32) << 15).save(path)  # mode "I", 32-bit samples
    else:
        Image.fromarray(GRADIENT_16.astype(np.float32) / 65535).save(path)  # mode "F", in [0, 1]
    img = load_image(path).astype(int)
    expected = GRADIENT_16 / 257  # 65535 -> 255
    if kind == "RGB PNG":
        expected = np.stack([expected, 255 - expected, GRADIENT_16 // 2 / 257], axis=-1)
    else:
        expected = np.stack([expected] * 3, axis=-1)
    assert np.abs(img - expected).max() <= 1  # 8-bit values agree within one level
    assert img.min() == 0 and img.max() == 255


def test_predictor_matches_course_predict(run_dir, own_images):
    p = predict.Predictor(run_dir)
    results = p.predict_files([str(x) for x in own_images])
    X = flatten(np.stack([load_image(x) for x in own_images]))
    expected = tf_utils.predict(X, predict.load_parameters(run_dir))
    assert [r["digit"] for r in results] == expected.tolist()
    for r in results:
        assert abs(sum(r["probabilities"]) - 1) < 1e-4
    single = p.probabilities_of(X[:, :1])
    # equal up to float32 rounding of the 12288-term sums (other kernels, other machines)
    atol = softmax_atol(p.session.run(p.logits, {p.X: X}), X.shape[0])
    np.testing.assert_allclose(single[:, 0], p.probabilities_of(X)[:, 0], atol=atol, rtol=0)
    p.close()


def test_cli_predict_own_images(run_dir, own_images, run_cli):
    code, out, err = run_cli("predict", "--run", run_dir, *own_images)
    assert code == 0, err
    lines = out.strip().splitlines()
    assert len(lines) == len(own_images)
    for line, path in zip(lines, own_images):
        assert line.startswith(f"{path}: ") and "(p=" in line
    code, out, _ = run_cli("predict", "--run", run_dir, "--json", *own_images[:2])
    records = [json.loads(line) for line in out.splitlines()]
    assert [r["image"] for r in records] == [str(p) for p in own_images[:2]]
    assert all(len(r["probabilities"]) == 6 and 0 <= r["digit"] < 6 for r in records)


def test_cli_predict_bad_files_still_predicts_the_rest(run_dir, own_images, run_cli, tmp_path):
    text = tmp_path / "notes.jpg"
    text.write_text("not an image")
    cut = tmp_path / "cut.jpg"
    cut.write_bytes(own_images[0].read_bytes()[:200])
    huge = tmp_path / "huge.png"
    Image.new("1", (20000, 20000)).save(huge)  # 400 megapixels, a few KB on disk
    code, out, err = run_cli("predict", "--run", run_dir, own_images[0], text, cut, huge,
                             tmp_path / "missing.jpg", own_images[1])
    assert code == 1
    assert out.count("(p=") == 2
    errors = err.strip().splitlines()
    assert len(errors) == 4 and all(e.startswith("signs: error: ") for e in errors)
    assert "notes.jpg: not a readable image" in err and "cut.jpg: not a readable image" in err
    assert "megapixels" in err and "missing.jpg: no such image file" in err
    assert "Traceback" not in err


@pytest.mark.parametrize("batch_size", [0, -1, 2.5, "8", True])
def test_predict_files_refuses_a_bad_batch_size_before_any_work(run_dir, batch_size, tmp_path):
    p = predict.Predictor(run_dir)
    try:
        with pytest.raises(SignsError) as e:
            p.predict_files([tmp_path / "missing.jpg"], batch_size=batch_size)  # not even looked at
        assert str(e.value) == f"batch_size must be an int >= 1, got {batch_size!r}"
    finally:
        p.close()


@pytest.mark.parametrize("value", ["0", "-1"])
def test_cli_predict_refuses_a_bad_batch_size(run_dir, own_images, run_cli, value):
    code, out, err = run_cli("predict", "--run", run_dir, "--batch-size", value, own_images[0])
    assert code == 2 and out == ""
    assert err == f"signs: error: argument --batch-size: batch_size must be an int >= 1, got {value}\n"


def test_cli_predict_needs_a_finished_run(tmp_path, run_cli, own_images):
    code, _, err = run_cli("predict", "--run", tmp_path, own_images[0])
    assert code == 2 and "no params.json" in err


def test_predict_photo_answers_as_predict_files_and_shows_the_input(run_dir, own_images):
    """The demo's path (one photo, with its picture) gives predict's answer; the picture of a
    run without preprocessing is the photo as read, pixel for pixel."""
    p = predict.Predictor(run_dir)
    try:
        paths = own_images[:3]
        X = np.hstack([predict.photo_input(path) for path in paths])
        atol = softmax_atol(p.session.run(p.logits, {p.X: X}), X.shape[0]) + 1e-6  # 6 decimals
        for path, expected in zip(paths, p.predict_files(paths)):
            got = p.predict_photo(path)
            assert got["digit"] == expected["digit"]
            np.testing.assert_allclose(got["probabilities"], expected["probabilities"], rtol=0,
                                       atol=atol)
            np.testing.assert_array_equal(got["seen"], load_image(path))
        image = load_image(paths[0])
        assert p.predict_photo(image)["probabilities"] == p.predict_photo(paths[0])["probabilities"]
        with pytest.raises(SignsError, match=r"image must be a \(64, 64, 3\) uint8 array, got "
                                             r"\(32, 32, 3\) uint8"):
            p.predict_photo(image[:32, :32])
    finally:
        p.close()


def test_a_standardizing_run_shows_its_input_stretched(signs, own_images, tmp_path):
    """Standardized inputs are not in [0, 1]: the picture maps their lowest value to black and
    their highest to white. Standardizing is (x - mean) / std, so that is the photo stretched."""
    train.train(TrainConfig(num_epochs=2, learning_rate=1e-3, preprocess="standardize"),
                signs.X_train[:, :96], signs.Y_train[:, :96], run_dir=tmp_path, progress=False)
    p = predict.Predictor(tmp_path)
    try:
        seen = p.predict_photo(own_images[0])["seen"].astype(int)
    finally:
        p.close()
    photo = load_image(own_images[0]).astype(float)
    stretched = 255 * (photo - photo.min()) / (photo.max() - photo.min())
    assert seen.min() == 0 and seen.max() == 255
    assert np.abs(seen - stretched).max() <= 1  # float32 standardization: within one level
