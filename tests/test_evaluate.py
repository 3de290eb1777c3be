"""Evaluating a run on a labelled folder of photos: counts checked by hand, both layouts, the CLI."""
import json
import shutil
import subprocess
import sys
import warnings

import numpy as np
import pytest
from PIL import Image

from signs_model import runs
from signs_model.config import TrainConfig
from signs_model.errors import SignsError
from signs_model.evaluate import evaluate_photos, format_confusion
from signs_model.atomic import write_json, write_npz
from signs_model.images import labelled_images

from test_faults import without_root_override

# The crafted run's digit for each solid colour (its prototype, RGB in [0, 1])
PROTOTYPES = np.array([(0, 0, 0), (1, 0, 0), (0, 1, 0), (0, 0, 1), (1, 1, 0), (1, 1, 1)], float)
COLOURS = {name: tuple(int(255 * v) for v in p)
           for name, p in zip(("black", "red", "green", "blue", "yellow", "white"), PROTOTYPES)}
SCALE = 5.0

# true digit -> the colours of its photos: 1/c (green) is read as 2 and 3/b (white) as 5
# (white more surely: its logit leads by 5, green's by 5 over two rivals); no photo of 4
PHOTOS = {0: ["black"], 1: ["red", "red", "green"], 2: ["green"],
          3: ["blue", "white"], 5: ["white"]}
CONFUSION = [[1, 0, 0, 0, 0, 0],  # rows: true digit, columns: predicted
             [0, 2, 1, 0, 0, 0],
             [0, 0, 1, 0, 0, 0],
             [0, 0, 0, 1, 0, 1],
             [0, 0, 0, 0, 0, 0],
             [0, 0, 0, 0, 0, 1]]


def crafted_logits(rgb):
    """The crafted network's ZL for a photo whose mean colour is ``rgb``: the nearest prototype wins."""
    return SCALE * (2 * PROTOTYPES @ rgb - (PROTOTYPES ** 2).sum(axis=1))


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    """A run whose one hidden layer holds the mean red, green and blue of the photo, and whose
    output layer scores each digit by -SCALE * (squared distance to its prototype colour)
    (up to a term the same for every digit): crafted_logits."""
    folder = tmp_path_factory.mktemp("crafted_run")
    runs.start_segment(folder, TrainConfig(hidden_units=(3,), num_epochs=1), [], 0, "feed", "cpu")
    W1 = np.zeros((3, 64 * 64 * 3), np.float32)
    for c in range(3):
        W1[c, c::3] = 1 / (64 * 64)  # flattened (64, 64, 3): channel c is every third feature
    write_npz(folder / runs.PARAMETERS, {
        "W1": W1, "b1": np.zeros((3, 1), np.float32),
        "W2": (2 * SCALE * PROTOTYPES).astype(np.float32),
        "b2": (-SCALE * (PROTOTYPES ** 2).sum(axis=1, keepdims=True)).astype(np.float32)})
    write_json(folder / runs.METRICS, {"epochs": 1})  # finished: predict and evaluate take it
    return folder


def solid(path, colour):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (40, 30), COLOURS[colour]).save(path)


@pytest.fixture
def subfolders(tmp_path):
    folder = tmp_path / "photos"
    for digit, colours in PHOTOS.items():
        for k, colour in enumerate(colours):
            solid(folder / str(digit) / f"{'abc'[k]}.png", colour)
    return folder


@pytest.fixture
def prefixed(tmp_path):
    folder = tmp_path / "flat"
    for digit, colours in PHOTOS.items():
        for k, colour in enumerate(colours):
            solid(folder / f"{digit}_{'abc'[k]}.png", colour)
    return folder


def confidence(colour):
    z = crafted_logits(PROTOTYPES[list(COLOURS).index(colour)])
    p = np.exp(z - z.max())
    return (p / p.sum()).max()


def check_hand_counted(result):
    assert result["n"] == 8 and result["correct"] == 6 and result["accuracy"] == 0.75
    assert result["per_digit"] == [1.0, 2 / 3, 1.0, 0.5, None, 1.0]
    assert result["confusion"] == CONFUSION
    assert [(w["true"], w["predicted"]) for w in result["wrong"]] == [(3, 5), (1, 2)]
    assert result["wrong"][0]["confidence"] == pytest.approx(confidence("white"), abs=1e-5)
    assert result["wrong"][1]["confidence"] == pytest.approx(confidence("green"), abs=1e-5)
    assert result["unreadable"] == []


def test_evaluate_counts_by_hand(run_dir, subfolders):
    result = evaluate_photos(run_dir, subfolders, batch_size=3)  # three batches, one partial
    check_hand_counted(result)
    assert [w["image"] for w in result["wrong"]] == [str(subfolders / "3" / "b.png"),
                                                     str(subfolders / "1" / "c.png")]


def test_both_layouts_give_the_same_result(run_dir, subfolders, prefixed):
    by_folder = evaluate_photos(run_dir, subfolders)
    by_name = evaluate_photos(run_dir, prefixed)
    check_hand_counted(by_name)
    assert [w["image"] for w in by_name["wrong"]] == [str(prefixed / "3_b.png"),
                                                      str(prefixed / "1_c.png")]
    for key in ("n", "correct", "accuracy", "per_digit", "confusion"):
        assert by_name[key] == by_folder[key]
    # each folder has its own figures in the run folder
    assert by_name["confusion_png"] != by_folder["confusion_png"]


def test_labelled_images_one_rule(tmp_path):
    solid(tmp_path / "p" / "3" / "deeper" / "a.png", "red")
    solid(tmp_path / "p" / "sign_4_IMG.png", "red")
    solid(tmp_path / "p" / "2_x.png", "red")
    for skipped in ("notes.txt", "other/1_x.png", "5.png", "3/.DS_Store", ".ipynb_checkpoints/1_x.png",
                    "x_³_y.png"):
        (tmp_path / "p" / skipped).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "p" / skipped).write_text("")
    found = [(p.relative_to(tmp_path / "p").as_posix(), label)
             for p, label in labelled_images(tmp_path / "p")]
    assert found == [("2_x.png", 2), ("3/deeper/a.png", 3), ("sign_4_IMG.png", 4)]
    with pytest.raises(SignsError, match=r"nowhere: not a folder \(it does not exist\); expected"):
        labelled_images(tmp_path / "nowhere")
    with pytest.raises(SignsError, match=r"2_x.png: not a folder \(it is a file\); expected"):
        labelled_images(tmp_path / "p" / "2_x.png")
    (tmp_path / "q").mkdir()
    (tmp_path / "q" / "notes.txt").write_text("")
    with pytest.raises(SignsError, match="q: no labelled images; expected"):
        labelled_images(tmp_path / "q")


def test_format_confusion():
    assert format_confusion([[2, 0, 0], [1, 3, 0], [0, 0, 0]]).splitlines() == [
        "true\\pred     0     1     2  accuracy",
        "        0     2     0     0     1.000",
        "        1     1     3     0     0.750",
        "        2     0     0     0         -"]


def is_png(path):
    with Image.open(path) as im:
        im.verify()
        return im.format == "PNG"


def test_cli_evaluate_table_json_and_figures(run_dir, subfolders, run_cli):
    code, out, err = run_cli("evaluate", "--run", run_dir, "--photos", subfolders)
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert lines[0] == f"{subfolders}: accuracy 0.750 (6 of 8 photos right)"
    assert lines[1:8] == format_confusion(CONFUSION).splitlines()
    assert lines[8:11] == ["wrong: 2, most confident first:",
                           f"  {subfolders / '3' / 'b.png'}: true 3, predicted 5 (p=0.993)",
                           f"  {subfolders / '1' / 'c.png'}: true 1, predicted 2 (p=0.987)"]
    code, out, err = run_cli("evaluate", "--run", run_dir, "--photos", subfolders, "--json")
    assert code == 0 and err == ""
    result = json.loads(out)
    check_hand_counted(result)
    assert result["confusion_png"] == str(run_dir / "evaluate-photos-confusion.png")
    assert result["wrong_png"] == str(run_dir / "evaluate-photos-wrong.png")
    assert is_png(result["confusion_png"]) and is_png(result["wrong_png"])


def test_cli_evaluate_leaves_out_an_unreadable_photo(run_dir, subfolders, run_cli):
    (subfolders / "2" / "broken.jpg").write_text("not a photo")
    code, out, err = run_cli("evaluate", "--run", run_dir, "--photos", subfolders, "--json")
    assert code == 1
    assert err.splitlines() == [f"signs: error: {subfolders / '2' / 'broken.jpg'}: not a readable "
                                f"image (UnidentifiedImageError); expected a JPEG, PNG or other "
                                f"common photo format"]
    result = json.loads(out)
    check_hand_counted({**result, "unreadable": []})  # the same counts as without it
    assert [r["image"] for r in result["unreadable"]] == [str(subfolders / "2" / "broken.jpg")]
    code, out, err = run_cli("evaluate", "--run", run_dir, "--photos", subfolders)
    assert code == 1 and "(6 of 8 photos right; 1 unreadable left out)" in out


@pytest.mark.parametrize("case", ["missing", "file", "empty", "digit 7", "none readable",
                                  "no run", "batch size"])
def test_cli_evaluate_bad_input_one_line(run_dir, subfolders, run_cli, tmp_path, case):
    photos, run, extra = subfolders, run_dir, []
    if case == "missing":
        photos, expected = tmp_path / "nowhere", "nowhere: not a folder (it does not exist)"
    elif case == "file":
        photos, expected = subfolders / "2" / "a.png", "a.png: not a folder (it is a file)"
    elif case == "empty":
        photos, expected = tmp_path / "empty", "empty: no labelled images"
        photos.mkdir()
    elif case == "digit 7":
        solid(subfolders / "7" / "a.png", "red")
        expected = "photos: photos labelled 7; expected labels 0..5, the 6 classes of the run"
    elif case == "none readable":
        photos, expected = tmp_path / "bad", "bad: none of its 1 labelled images is readable"
        (photos / "3").mkdir(parents=True)
        (photos / "3" / "a.jpg").write_text("not a photo")
    elif case == "no run":
        run, expected = tmp_path, "no params.json"
    else:
        extra, expected = ["--batch-size", "0"], "argument --batch-size: batch_size must be"
    code, out, err = run_cli("evaluate", "--run", run, "--photos", photos, *extra)
    assert code == 2 and out == ""
    assert err.startswith("signs: error: ") and err.count("\n") == 1 and expected in err
    assert "Traceback" not in err


def test_evaluate_the_same_folder_twice_replaces_its_figures(run_dir, subfolders):
    first = evaluate_photos(run_dir, subfolders)
    shutil.rmtree(subfolders / "3")
    again = evaluate_photos(run_dir, subfolders)
    assert again["confusion_png"] == first["confusion_png"] and again["n"] == 6
    assert not list(run_dir.glob(".tmp-*"))


# --- labels you can trust (docs/reliability.md) -------------------------------------------

def test_a_camera_counter_is_never_read_as_a_label(run_dir, prefixed, run_cli):
    """IMG_0004_edit.jpg is not a photo of a 4, and a phone's date is not a label: both are
    skipped and named, the rest is scored as without them, exit 0."""
    solid(prefixed / "IMG_0004_edit.png", "red")  # would be scored as a 4 read wrong
    solid(prefixed / "IMG_20240501_123456.png", "red")  # would abort: "labelled 20240501"
    solid(prefixed / "33_x.png", "red")  # two digits: no label either
    (prefixed / "LICENSE").write_text("not a photo: passed over in silence")
    code, out, err = run_cli("evaluate", "--run", run_dir, "--photos", prefixed, "--json")
    assert code == 0
    result = json.loads(out)
    check_hand_counted(result)
    skipped = [str(prefixed / n) for n in ("33_x.png", "IMG_0004_edit.png",
                                           "IMG_20240501_123456.png")]
    assert result["skipped"] == skipped
    assert err.splitlines() == [f"signs: warning: {p}: no label, skipped; expected photos named "
                                f"<digit>_*.jpg (3_hand.jpg) or in class folders 0/ ... 9/"
                                for p in skipped]
    code, out, _ = run_cli("evaluate", "--run", run_dir, "--photos", prefixed)
    assert "(6 of 8 photos right; 3 without a label skipped)" in out


def test_images_names_keep_their_labels(own_images):
    """images/ names its photos sign_<d>_IMG_<n>.jpg: the rule reads <d>, never the counter."""
    found = labelled_images(own_images[0].parent)
    assert [(p.name, label) for p, label in found] == [
        (p.name, int(p.name.split("_")[1])) for p in sorted(own_images)]
    assert len(found) == 12 and {label for _, label in found} == set(range(6))


def test_linked_class_folders_are_followed_once(run_dir, subfolders, tmp_path):
    linked = tmp_path / "linked"
    linked.mkdir()
    for digit in PHOTOS:
        (linked / str(digit)).symlink_to(subfolders / str(digit), target_is_directory=True)
    (subfolders / "3" / "loop").symlink_to(linked, target_is_directory=True)  # a link loop
    (linked / "1" / "again").symlink_to(subfolders / "1", target_is_directory=True)
    check_hand_counted(evaluate_photos(run_dir, linked))  # each photo once, and it ends
    (subfolders / "3" / "loop").unlink()
    some = tmp_path / "some"  # some class folders linked, some real
    shutil.copytree(subfolders, some, symlinks=True, ignore=shutil.ignore_patterns("1", "3"))
    for digit in (1, 3):
        (some / str(digit)).symlink_to(subfolders / str(digit), target_is_directory=True)
    check_hand_counted(evaluate_photos(run_dir, some))


def test_a_broken_link_is_named_like_any_unreadable_photo(run_dir, subfolders, run_cli):
    (subfolders / "2" / "gone.jpg").symlink_to(subfolders / "nowhere.jpg")
    code, out, err = run_cli("evaluate", "--run", run_dir, "--photos", subfolders, "--json")
    assert code == 1
    assert err.splitlines() == [f"signs: error: {subfolders / '2' / 'gone.jpg'}: a broken link "
                                f"(to {subfolders / 'nowhere.jpg'}); expected a photo file"]
    check_hand_counted({**json.loads(out), "unreadable": []})


@pytest.mark.parametrize("side, reason", [
    (12000, "image is 12000x12000 pixels; expected at most 50 megapixels"),
    (20000, "image is 400 megapixels, over the pixel limit for decoding safely; expected at "
            "most 50 megapixels")])
def test_a_photo_over_the_pixel_limit_says_so(run_dir, tmp_path, run_cli, side, reason):
    photo = tmp_path / "big" / "3" / "huge.png"
    photo.parent.mkdir(parents=True)
    Image.new("1", (side, side)).save(photo)  # a few KB on disk
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        code, out, err = run_cli("evaluate", "--run", run_dir, "--photos", tmp_path / "big")
    assert code == 2 and out == ""
    assert err == (f"signs: error: {tmp_path / 'big'}: none of its 1 labelled images is readable "
                   f"(first: {photo}: {reason})\n")
    assert not [w for w in caught if "DecompressionBomb" in w.category.__name__]


def test_a_folder_that_cannot_be_listed_is_refused(subfolders):
    """Not left out in silence (as os.walk does by default): one line naming it."""
    (subfolders / "5").chmod(0)
    try:
        done = subprocess.run(
            [sys.executable, "-c", "import sys; from signs_model.cli import main; "
             "sys.exit(main(['data', 'build', '--from', sys.argv[1], '--out', sys.argv[2]]))",
             str(subfolders), str(subfolders.parent / "built")],
            capture_output=True, text=True, preexec_fn=without_root_override())
    finally:
        (subfolders / "5").chmod(0o755)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr == (f"signs: error: {subfolders / '5'}: cannot list the folder (Permission "
                           f"denied); expected a folder of photos this user can read\n")
