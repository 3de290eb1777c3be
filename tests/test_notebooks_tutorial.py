"""The tutorial notebook runs top to bottom (20 epochs) and prints the course's values; notebooks are stored clean."""
import os
import re
from pathlib import Path

import nbformat
import numpy as np
import pytest
import tensorflow.compat.v1 as tf

from notebook_runner import cell_outputs_text, run_notebook
from signs_model import runs, train
from signs_model.config import PRESETS, TrainConfig
from signs_model.data import flatten
from signs_model.evaluate import evaluate_photos, format_confusion
from signs_model.images import load_image
from signs_model.predict import predict
from tolerances import EPS

REPO_ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = REPO_ROOT / "notebooks"
TUTORIAL = NOTEBOOKS / "tensorflow_tutorial.ipynb"
EPOCHS = 20
PHOTO_EPOCHS = 1


@pytest.fixture(scope="module")
def photos_runs(tmp_path_factory):
    return tmp_path_factory.mktemp("notebook_runs")


@pytest.fixture(scope="module")
def executed(data_dir, own_images, photos_runs):
    # data_dir (conftest) is made absolute because the kernel runs in notebooks/.
    # The photos come from the notebook's own default (the repo's images/) unless
    # SIGNS_OWN_IMAGES overrides it, so test_own_image_prediction checks that default.
    env = {"SIGNS_DATA_DIR": str(Path(data_dir).resolve()), "SIGNS_NB_EPOCHS": str(EPOCHS),
           "SIGNS_NB_PHOTO_EPOCHS": str(PHOTO_EPOCHS), "SIGNS_NB_RUNS": str(photos_runs)}
    if os.environ.get("SIGNS_OWN_IMAGES"):
        env["SIGNS_OWN_IMAGES"] = str(own_images[0].parent.resolve())
    nb = run_notebook(TUTORIAL, env=env, timeout=300)
    return nb, cell_outputs_text(nb)


def test_no_cell_errored(executed):
    nb, _ = executed
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.output_type == "error"]
    assert not errors, [f"{o.ename}: {o.evalue}" for o in errors]
    code_cells = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.execution_count is not None for c in code_cells)


def printed_by(nb, snippet):
    """What the one code cell whose source contains ``snippet`` printed (stdout)."""
    cells = [c for c in nb.cells if c.cell_type == "code" and snippet in c.source]
    assert len(cells) == 1, f"{len(cells)} code cells contain {snippet!r}; expected one"
    return "".join(o.text for o in cells[0].get("outputs", [])
                   if o.output_type == "stream" and o.name == "stdout")


def floats(text):
    return [float(v) for v in re.findall(r"[-+]?\d+\.\d*(?:e[-+]?\d+)?", text)]


def stall_width(w_star, learning_rate=0.01):
    """How far from the minimum w* of (w - w*)**2 float32 gradient descent can stop: a step
    0.01 * 2 (w - w*) smaller than half an ulp of w rounds away, so w stalls within
    ulp(w*) / (4 * 0.01) of w*. Twice that, for the roundings of the step itself."""
    return 2 * float(np.spacing(np.float32(w_star))) / (4 * learning_rate)


@pytest.fixture(scope="module")
def reference(signs):
    """The trainer's run of the notebook's model (the course's config, feed engine, which
    test_tutorial checks to be the course's model bit for bit), to check the printed values."""
    cfg = TrainConfig(num_epochs=EPOCHS)
    return train.train(cfg, signs.X_train, signs.Y_train,
                       {"train": (signs.X_train, signs.Y_train), "test": (signs.X_test, signs.Y_test)},
                       engine="feed", progress=False)


def test_tensorflow_basics(executed):
    nb, _ = executed
    assert printed_by(nb, "print(loss_example())") == "9\n"           # (39 - 36)**2
    before, after = printed_by(nb, "c, value = multiply_example()").splitlines()
    assert re.fullmatch(r'Tensor\("Mul(_\d+)?:0", shape=\(\), dtype=int32\)', before)  # no value yet
    assert after == "20"                                               # after sess.run(c)
    assert printed_by(nb, "print(placeholder_example(3))") == "6\n"    # 2 * x, x = 3

    # linear_function: a (4, 1) float64 result printed to 8 decimals; values that agree to
    # float64 rounding can print one unit of the 8th decimal apart, no more.
    result = printed_by(nb, 'print("result = "')
    assert re.fullmatch(r"result = \[\[\S+\]\n \[\s*\S+\]\n \[\s*\S+\]\n \[\s*\S+\]\]\n", result)
    np.testing.assert_allclose(floats(result), [-2.15657382, 2.95891446, -1.08926781, -0.84538042],
                               rtol=0, atol=1e-8)

    # float32 sigmoid of exact inputs: a few roundings, so a few ulps of float32.
    zero, twelve = printed_by(nb, 'print("sigmoid(0) = "').splitlines()
    assert zero == "sigmoid(0) = 0.5"
    value = float(re.fullmatch(r"sigmoid\(12\) = (\S+)", twelve).group(1))
    assert value == pytest.approx(1 / (1 + np.exp(-12.0)), rel=4 * EPS)

    # The course passes sigmoid(z) as the logits: cross-entropy of s = sigmoid(z) against y,
    # here in float64; the float32 op is off by its input's rounding plus a few of its own.
    costs = printed_by(nb, 'print("cost = " + str(example_costs))')
    assert re.fullmatch(r"cost = \[\S+( +\S+){3}\]\n", costs)
    z, y = np.array([0.2, 0.4, 0.7, 0.9]), np.array([0, 0, 1, 1])
    s = 1 / (1 + np.exp(-z))
    expected = -(y * np.log(1 / (1 + np.exp(-s))) + (1 - y) * np.log(1 - 1 / (1 + np.exp(-s))))
    np.testing.assert_allclose(floats(costs), expected, rtol=8 * EPS)  # [1.00538719, 1.03664088, ...]

    assert printed_by(nb, 'print("one_hot = "') == ("one_hot = [[0. 0. 0. 1. 0. 0.]\n"
                                                    " [1. 0. 0. 0. 0. 1.]\n"
                                                    " [0. 1. 0. 0. 1. 0.]\n"
                                                    " [0. 0. 1. 0. 0. 0.]]\n")
    assert printed_by(nb, 'print("ones = "') == "ones = [1. 1. 1.]\n"


def test_framework_example(executed):
    nb, _ = executed
    start, one, thousand = printed_by(nb, "minimize_quadratic(num_steps=1000)").splitlines()
    assert start == "w at start: 0.0"
    w1 = float(re.fullmatch(r"w after 1 step: (\S+)", one).group(1))
    assert w1 == pytest.approx(0.1, rel=2 * EPS)  # 0 - 0.01 * (2*0 - 10): float32(0.01), one rounding
    w = re.fullmatch(r"w after 1000 steps: (\S+)", thousand).group(1)
    assert float(w) == pytest.approx(5.0, abs=stall_width(5.0))
    fed_5, fed_10 = printed_by(nb, "coefficients = np.array([[1.], [-10.], [25.]])").splitlines()
    # the same cost with its coefficients fed through a placeholder: the same float32 steps
    assert fed_5 == f"J = w**2 - 10w + 25,  w after 1000 steps: {w}"
    w10 = float(re.fullmatch(r"J = w\*\*2 - 20w \+ 100, w after 1000 steps: (\S+)", fed_10).group(1))
    assert w10 == pytest.approx(10.0, abs=stall_width(10.0))


def test_graph_tensors_read_like_the_course(executed):
    _, text = executed
    lines = text.splitlines()
    for line in ['X = Tensor("X:0", shape=(12288, ?), dtype=float32)',
                 'Y = Tensor("Y:0", shape=(6, ?), dtype=float32)',
                 "W1 = <tf.Variable 'W1:0' shape=(25, 12288) dtype=float32_ref>",
                 "b1 = <tf.Variable 'b1:0' shape=(25, 1) dtype=float32_ref>",
                 "W2 = <tf.Variable 'W2:0' shape=(12, 25) dtype=float32_ref>",
                 "b2 = <tf.Variable 'b2:0' shape=(12, 1) dtype=float32_ref>",
                 'Z3 = Tensor("Add_2:0", shape=(6, ?), dtype=float32)',
                 'cost = Tensor("Mean:0", shape=(), dtype=float32)']:
        assert line in lines, line


def test_model_trains_with_the_epoch_budget(executed, reference, signs):
    nb, text = executed
    lines = text.splitlines()
    for line in [f"y = {signs.y_train[0]}",  # the label of the example picture
                 "number of training examples = 1080", "number of test examples = 120",
                 "X_train shape: (12288, 1080)", "Y_train shape: (6, 1080)",
                 "X_test shape: (12288, 120)", "Y_test shape: (6, 120)"]:
        assert line in lines, line
    # SIGNS_NB_EPOCHS=20 reached the model: it prints every 100 epochs, so epoch 0 only,
    # with the cost the trainer computes for the same model and minibatches.
    assert re.findall(r"^Cost after epoch .*$", text, re.M) == [
        f"Cost after epoch 0: {reference['costs'][0]:f}"]
    # Accuracies are float32 fractions k / 1080 and k / 120, printed in full: the same k.
    for name, m in (("Train", 1080), ("Test", 120)):
        (printed,) = re.findall(rf"^{name} Accuracy: (\S+)$", text, re.M)
        assert round(float(printed) * m) == round(reference["metrics"][f"{name.lower()}_accuracy"] * m)
    images = [o for c in nb.cells for o in c.get("outputs", []) if "image/png" in o.get("data", {})]
    assert len(images) >= 3  # example picture, cost curve, own photo(s)


def test_own_image_prediction(executed, reference, own_images):
    _, text = executed
    # The notebook predicts every photo of the folder, the first one also on its own, with
    # the trained parameters: the same argmax as the package's predict on the reference run.
    folder = own_images[0].parent
    paths = sorted(p for p in folder.glob("*")
                   if p.suffix.lower() in {".jpg", ".jpeg", ".png", ".bmp", ".gif"})
    with tf.Graph().as_default():
        classes = predict(flatten(np.stack([load_image(p) for p in paths])),
                          reference["parameters"])
    expected = [f"{p.name}: your algorithm predicts: y = {y}" for p, y in zip(paths, classes)]
    assert re.findall(r"^.*: your algorithm predicts: .*$", text, re.M) == expected[:1] + expected
    assert f"{len(paths)} photo(s) in {folder.resolve()}" in text.splitlines()


def test_photos_section_scores_the_preset_on_labelled_photos(executed, photos_runs, own_images):
    nb, text = executed
    (run,) = photos_runs.iterdir()  # the notebook's run folder, with the photos recipe
    params = runs.read_params(run)
    assert {k: params[k] for k in ("preprocess", "augment", "conv_channels")} == {
        k: TrainConfig(**PRESETS["photos"]).to_dict()[k] for k in ("preprocess", "augment", "conv_channels")}
    assert params["num_epochs"] == PHOTO_EPOCHS
    # The printed accuracy and confusion matrix are evaluate_photos' on the same run and photos.
    result = evaluate_photos(run, own_images[0].parent)
    assert (f"accuracy {result['accuracy']:.3f} ({result['correct']} of {result['n']} photos right)"
            in printed_by(nb, "evaluate_photos(photos_run"))
    assert format_confusion(result["confusion"]) in printed_by(nb, "evaluate_photos(photos_run")
    cell = next(c for c in nb.cells if c.cell_type == "code" and "plot_contact_sheet(evaluation" in c.source)
    assert sum("image/png" in o.get("data", {}) for o in cell.outputs) == 2  # confusion, wrong photos


@pytest.mark.parametrize("path", sorted(NOTEBOOKS.glob("*.ipynb")), ids=lambda p: p.name)
def test_notebook_stored_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    dirty = [i for i, c in enumerate(nb.cells)
             if c.cell_type == "code" and (c.get("outputs") or c.get("execution_count") is not None)]
    assert not dirty, (f"{path.name}: code cells {dirty} carry outputs or execution counts; "
                       f"clear all outputs before committing")


@pytest.mark.parametrize("path", sorted(NOTEBOOKS.glob("*.ipynb")), ids=lambda p: p.name)
def test_notebook_needs_nothing_outside_the_repo(path):
    text = path.read_text()
    assert "../../" not in text and "shared/" not in text, (
        f"{path.name} points outside the repository; data and photos ship in datasets/, images/")
