"""``signs port``: course-era code rewritten to run here, and run headless.

The main test takes the TensorFlow tutorial's code blocks from the course notes
(``../shared/seed/course_notes.md``, read at test time), makes them a TF 1.x
notebook, and runs it through ``signs port --run``: it must print the course's values.
"""
import ast
import builtins
import json
import re
import shutil
from pathlib import Path

import nbformat
import numpy as np
import pytest

import tf_utils
from signs_model.course_image import imread, imresize
from signs_model.atomic import read_csv, read_json
from signs_model.compat.port import port_file
from tolerances import EPS

NOTES = Path(__file__).resolve().parents[2] / "shared" / "seed" / "course_notes.md"
EPOCHS = 3


def fences(text):
    """The notes' fenced blocks in order: (language, code); language "" for printed output."""
    return [(m.group(1), m.group(2)) for m in
            re.finditer(r"^```(\w*)[ \t]*\n(.*?)^```", text, re.M | re.S)]


def defined_names(tree):
    names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    names |= {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}
    names |= {(a.asname or a.name).split(".")[0] for n in ast.walk(tree)
              if isinstance(n, (ast.Import, ast.ImportFrom)) for a in n.names}
    return names


def is_quote(tree, defined):
    """A block that shows code rather than runs a step: a ``...`` placeholder, or one statement
    reading names nothing before it defined (``model()``'s optimizer line quoted on its own)."""
    if any(isinstance(n, ast.Constant) and n.value is Ellipsis for n in ast.walk(tree)):
        return True
    if len(tree.body) == 1 and not isinstance(tree.body[0], ast.FunctionDef):
        read = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
        return bool(read - defined - set(dir(builtins)))
    return False


def tutorial_blocks(text):
    """The TensorFlow tutorial's runnable blocks, in order, each with the output the notes print
    after it (or None): from the block importing tf_utils to the end of the notes."""
    blocks = fences(text)
    start = next((i for i, (lang, code) in enumerate(blocks)
                  if lang == "python" and "from tf_utils import" in code), None)
    assert start is not None, f"{NOTES}: no python block imports tf_utils; is it the course notes?"
    kept, defined = [], set()
    for i in range(start, len(blocks)):
        lang, code = blocks[i]
        if lang != "python":
            continue
        tree = ast.parse("\n".join(line for line in code.splitlines() if not line.lstrip().startswith("%")))
        if is_quote(tree, defined):
            continue
        defined |= defined_names(tree)
        printed = blocks[i + 1][1] if i + 1 < len(blocks) and blocks[i + 1][0] == "" else None
        kept.append((code, printed))
    return kept


# Our own check cell, run after the notes' blocks: what the course's test cells printed.
CHECKS = """
import json
checks = {"linear_function": linear_function().tolist(),
          "sigmoid": [float(sigmoid(0)), float(sigmoid(12))],
          "cost": cost(sigmoid(np.array([0.2, 0.4, 0.7, 0.9])), np.array([0, 0, 1, 1])).tolist(),
          "one_hot": one_hot_matrix(np.array([1, 2, 3, 0, 2, 1]), C=4).tolist(),
          "ones": ones([3]).tolist()}
tf.reset_default_graph()
X, Y = create_placeholders(12288, 6)
check_parameters = initialize_parameters()
Z3 = forward_propagation(X, check_parameters)
checks["graph"] = [str(X), str(Y), str(check_parameters["W1"]), str(Z3), str(compute_cost(Z3, Y))]
with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    checks["W1_head"] = sess.run(check_parameters["W1"])[0, :5].tolist()
checks["fname"] = fname
checks["my_image"] = my_image.ravel().tolist()
np.savez("trained.npz", **parameters)
print(json.dumps(checks))
"""

COURSE = {  # what the course's test cells printed
    "linear_function": [[-2.15657382], [2.95891446], [-1.08926781], [-0.84538042]],
    "sigmoid": [0.5, 0.999994],
    "cost": [1.00538719, 1.03664088, 0.41385433, 0.39956614],
    "one_hot": [[0, 0, 0, 1, 0, 0], [1, 0, 0, 0, 0, 1], [0, 1, 0, 0, 1, 0], [0, 0, 1, 0, 0, 0]],
    "ones": [1.0, 1.0, 1.0],
    "graph": ['Tensor("X:0", shape=(12288, ?), dtype=float32)',
              'Tensor("Y:0", shape=(6, ?), dtype=float32)',
              "<tf.Variable 'W1:0' shape=(25, 12288) dtype=float32_ref>",
              'Tensor("Add_2:0", shape=(6, ?), dtype=float32)',
              'Tensor("Mean:0", shape=(), dtype=float32)'],
}


def stdout(cell):
    return "".join(o.text for o in cell.get("outputs", []) if o.output_type == "stream" and o.name == "stdout")


@pytest.fixture(scope="module")
def course_notes():
    if not NOTES.is_file():  # CI clones the repo beside ../shared: missing notes are a broken checkout
        pytest.fail(f"course notes not found: {NOTES}; expected ../shared/seed/course_notes.md beside "
                    f"the repository", pytrace=False)
    return NOTES.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def ported_tutorial(course_notes, data_dir, own_images, tmp_path_factory):
    """The notes' tutorial as a TF 1.x notebook, through ``signs port --run`` in a fresh folder
    that holds the course's images/thumbs_up.jpg (one of our photos)."""
    from signs_model import cli

    folder = tmp_path_factory.mktemp("course")
    (folder / "images").mkdir()
    shutil.copy(own_images[0], folder / "images" / "thumbs_up.jpg")
    blocks = tutorial_blocks(course_notes)
    call = "model(X_train, Y_train, X_test, Y_test)"  # 1500 epochs in the notes; a few here
    assert sum(call in code and "def model" not in code for code, _ in blocks) == 1
    cells = [nbformat.v4.new_code_cell(code if "def model" in code else
                                       code.replace(call, f"{call[:-1]}, num_epochs={EPOCHS})"))
             for code, _ in blocks]
    nb = nbformat.v4.new_notebook(cells=cells + [nbformat.v4.new_code_cell(CHECKS)])
    nbformat.write(nb, folder / "course.ipynb")
    before = (folder / "course.ipynb").read_bytes()

    mp = pytest.MonkeyPatch()
    mp.setenv("SIGNS_DATA_DIR", str(Path(data_dir).resolve()))  # the kernel inherits it
    try:
        code = cli.main(["port", str(folder / "course.ipynb"), "-o", str(folder / "ported.ipynb"),
                         "--run", "--timeout", "300"])
    finally:
        mp.undo()
    assert (folder / "course.ipynb").read_bytes() == before  # the input is never rewritten
    return code, blocks, nbformat.read(folder / "ported.ipynb", as_version=4), folder


def test_ported_tutorial_runs_and_its_lines_are_listed(ported_tutorial, capsys):
    code, blocks, nb, folder = ported_tutorial
    assert code == 0
    sources = [c.source for c in nb.cells]
    assert "import signs_model.tf1 as tf" in sources[0].splitlines()
    assert "from signs_model.tf_utils import load_dataset, random_mini_batches, convert_to_one_hot, predict" \
        in sources[0].splitlines()
    own = next(s for s in sources if "my_image = " in s)
    assert "from signs_model.course_image import imread, imresize" in own
    assert "image = np.array(imread(fname, flatten=False))" in own
    assert "imresize(image, size=(64,64)).reshape((1, 64*64*3)).T" in own
    # every line it changed is listed, with the code cell it is in
    result = port_file(folder / "course.ipynb", folder / "again.ipynb")
    assert [c["where"] for c in result["changes"]] == [
        "code cell 1, line 5", "code cell 1, line 7",
        f"code cell {len(blocks)}, line 2", f"code cell {len(blocks)}, line 12",
        f"code cell {len(blocks)}, line 13"]
    assert result["notes"] == []
    # every graded function of the notes was run (the notes head each with a "# GRADED ..." line)
    graded = sum("# GRADED" in code for lang, code in fences(NOTES.read_text(encoding="utf-8")))
    assert sum("# GRADED" in s for s in sources) == graded == 9
    assert all(c.execution_count for c in nb.cells)


def test_ported_tutorial_prints_the_course_values(ported_tutorial):
    _, blocks, nb, _ = ported_tutorial
    # the outputs the notes show after a block: 9, Tensor("Mul:0", ...), 20, 6
    shown = [(cell, printed) for cell, (_, printed) in zip(nb.cells, blocks) if printed]
    assert len(shown) == 4
    for cell, printed in shown:
        assert stdout(cell).strip() == printed.strip(), cell.source
    checks = json.loads(stdout(nb.cells[-1]))
    np.testing.assert_allclose(checks["linear_function"], COURSE["linear_function"], rtol=0, atol=5e-9)
    assert checks["sigmoid"][0] == 0.5 and round(checks["sigmoid"][1], 6) == COURSE["sigmoid"][1]
    np.testing.assert_allclose(checks["cost"], COURSE["cost"], rtol=0, atol=1e-6)
    assert checks["one_hot"] == COURSE["one_hot"] and checks["ones"] == COURSE["ones"]
    # The notes' forward_propagation writes tf.matmul(W1, X)+b1 where the course's used tf.add:
    # the op is named "add" instead of "Add". All else as printed.
    graph = checks["graph"]
    assert graph[3] == COURSE["graph"][3].replace("Add", "add")
    assert graph[:3] + graph[4:] == COURSE["graph"][:3] + COURSE["graph"][4:]


def test_ported_tutorial_initializes_and_trains_as_the_package(ported_tutorial, tmp_path, data_dir, run_cli):
    _, _, nb, folder = ported_tutorial
    checks = json.loads(stdout(nb.cells[-1]))
    # W1 from tf.contrib.layers.xavier_initializer(seed=1): the package's (TF 1.x's) stream
    import signs_model.tf1 as tf
    from signs_model import tutorial

    with tf.Graph().as_default():
        parameters = tutorial.initialize_parameters()
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            w1 = sess.run(parameters["W1"])
    limit = np.sqrt(6.0 / (25 + 12288))
    np.testing.assert_allclose(checks["W1_head"], w1[0, :5], rtol=0, atol=4 * EPS * limit)

    # model() for a few epochs: signs train's first cost, accuracies and trained parameters
    code, out, err = run_cli("train", "--epochs", EPOCHS, "--out", tmp_path / "run", "--no-progress",
                             "--data-dir", data_dir)
    assert code == 0, err
    costs = [float(r["cost"]) for r in read_csv(tmp_path / "run" / "costs.csv")]
    metrics = read_json(tmp_path / "run" / "metrics.json")
    printed = "".join(stdout(c) for c in nb.cells)
    (cost,) = re.findall(r"^Cost after epoch 0: (\S+)$", printed, re.M)
    # Under NumPy 2, the notes' ``epoch_cost += minibatch_cost / num_minibatches`` adds in
    # float32 (NumPy 1 added in float64, as the package does): 34 float32 roundings of a sum
    # below the cost, plus the printed 6 decimals.
    assert abs(float(cost) - costs[0]) <= 34 * 2 * EPS * costs[0] + 1e-6
    assert len(re.findall(r"^Cost after epoch", printed, re.M)) == 1
    for name, m in (("Train", 1080), ("Test", 120)):
        (accuracy,) = re.findall(rf"^{name} Accuracy: (\S+)$", printed, re.M)
        assert round(float(accuracy) * m) == round(metrics[f"{name.lower()}_accuracy"] * m)
    trained, expected = np.load(folder / "trained.npz"), np.load(tmp_path / "run" / "parameters.npz")
    for name in ("W1", "b1", "W2", "b2", "W3", "b3"):
        np.testing.assert_allclose(trained[name], expected[name], rtol=1e-4, atol=1e-6, err_msg=name)

    # the own-image cell: imread + imresize as SciPy's were, then the course's predict
    from PIL import Image

    with Image.open(folder / checks["fname"]) as im:
        reference = np.asarray(im.convert("RGB").resize((64, 64), Image.BILINEAR))
    np.testing.assert_array_equal(checks["my_image"], reference.reshape(-1, 1).ravel())
    y = tf_utils.predict(reference.reshape((1, 64 * 64 * 3)).T.astype(np.float32), dict(trained))
    assert f"Your algorithm predicts: y = {int(np.squeeze(y))}" in printed


PY_COURSE = '''import numpy as np
import tensorflow as tf
from tensorflow.contrib.layers import flatten

tf.set_random_seed(1)
W1 = tf.get_variable("W1", [25, 12288], initializer=tf.contrib.layers.xavier_initializer(seed=1))
x = tf.placeholder(tf.float32, [None, 2, 3])
with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    print(sess.run(W1).shape, sess.run(flatten(x), {x: np.ones((4, 2, 3))}).shape)
'''


def test_port_a_py_file_and_run_it(tmp_path, capfd):
    from signs_model import cli

    source = tmp_path / "week3.py"
    source.write_text(PY_COURSE + "y = tf.contrib.layers.batch_norm(x)\n")
    code = cli.main(["port", str(source), "--run", "--timeout", "120"])
    out, err = capfd.readouterr()  # the script's own prints too
    ported = tmp_path / "week3_tf2.py"
    assert source.read_text() == PY_COURSE + "y = tf.contrib.layers.batch_norm(x)\n"
    assert "line 2\n  - import tensorflow as tf\n  + import signs_model.tf1 as tf\n" in out
    assert ("line 3\n  - from tensorflow.contrib.layers import flatten\n"
            "  + from signs_model.contrib.layers import flatten\n") in out
    assert "note: line 11: tf.contrib.layers.batch_norm was removed" in out
    assert f"wrote {ported}: 2 line(s) changed, 0 added, 1 note(s)" in out
    assert "(25, 12288) (4, 6)" in out  # the script ran up to the line the note named
    # ... and failed there, reported in one line
    assert code == 1
    (line,) = err.strip().splitlines()
    assert line.startswith(f"signs: error: {ported}: line 11 (y = tf.contrib.layers.batch_norm(x)) "
                           f"signs_model.contrib.ContribError: tf.contrib.layers.batch_norm was removed")


def test_run_reports_the_first_failing_cell_and_keeps_the_outputs(tmp_path, run_cli):
    cells = [nbformat.v4.new_code_cell("x = 21"), nbformat.v4.new_markdown_cell("# Double it"),
             nbformat.v4.new_code_cell("print(2 * x)"),
             nbformat.v4.new_code_cell("# the course's bug\nprint(x / 0)"),
             nbformat.v4.new_code_cell("print('never')")]
    nbformat.write(nbformat.v4.new_notebook(cells=cells), tmp_path / "old.ipynb")
    code, out, err = run_cli("port", tmp_path / "old.ipynb", "--run")
    assert code == 1
    assert "wrote" in out and "0 line(s) changed" in out
    assert err == (f"signs: error: {tmp_path / 'old_tf2.ipynb'}: code cell 3 (print(x / 0)) "
                   f"ZeroDivisionError: division by zero\n")
    nb = nbformat.read(tmp_path / "old_tf2.ipynb", as_version=4)
    assert stdout(nb.cells[2]) == "42\n"
    assert [o.output_type for o in nb.cells[3].outputs] == ["error"]
    assert nb.cells[4].execution_count is None and not nb.cells[4].outputs

    # a cell past the time limit
    cells = [nbformat.v4.new_code_cell("import time\ntime.sleep(60)")]
    nbformat.write(nbformat.v4.new_notebook(cells=cells), tmp_path / "slow.ipynb")
    code, out, err = run_cli("port", tmp_path / "slow.ipynb", "--run", "--timeout", 2)
    assert code == 1
    assert err == (f"signs: error: {tmp_path / 'slow_tf2.ipynb'}: code cell 1 (import time) ran past "
                   f"the time limit of 2 s per cell\n")


def test_bad_inputs_give_one_line(tmp_path, run_cli):
    course = tmp_path / "course.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("import tensorflow as tf")]),
                   course)
    before = course.read_bytes()
    (tmp_path / "broken.ipynb").write_text('{"cells": [')
    (tmp_path / "notes.txt").write_text("import tensorflow as tf")
    (tmp_path / "link.ipynb").symlink_to(course)
    p = tmp_path
    cases = [
        ([p / "missing.ipynb"], f"{p / 'missing.ipynb'}: no such file"),
        ([p / "notes.txt"], "notes.txt: expected a notebook (.ipynb) or a Python file (.py), got .txt"),
        ([p / "broken.ipynb"], "broken.ipynb: not a readable notebook ("),
        ([course, "-o", course], f"argument --out: {course} is the input file; port never overwrites"),
        ([course, "-o", p / "link.ipynb"], "link.ipynb is the input file; port never overwrites its input"),
        ([course, "-o", p / "new.py"], "argument --out: "),
        ([course, "--run", "--timeout", "0"], "argument --timeout: timeout must be an int >= 1, got 0"),
    ]
    for args, message in cases:
        code, out, err = run_cli("port", *args)
        assert code == 2, args
        assert err.startswith("signs: error: ") and message in err and err.count("\n") == 1, (args, err)
    assert course.read_bytes() == before
    assert not (tmp_path / "course_tf2.ipynb").exists()  # --timeout 0 refused before writing


def test_imresize_and_imread_do_what_scipy_did(tmp_path):
    from PIL import Image

    rng = np.random.RandomState(0)
    rgb = rng.randint(0, 256, (30, 40, 3)).astype(np.uint8)
    pil = lambda a, size, f=Image.BILINEAR: np.asarray(Image.fromarray(a).resize(size, f))  # noqa: E731
    out = imresize(rgb, (15, 10))
    assert out.dtype == np.uint8 and out.shape == (15, 10, 3)
    np.testing.assert_array_equal(out, pil(rgb, (10, 15)))                   # size is (rows, cols)
    assert imresize(rgb, 50).shape == (15, 20, 3)                            # an int: percent
    assert imresize(rgb, 0.5).shape == (15, 20, 3)                           # a float: fraction
    np.testing.assert_array_equal(imresize(rgb, (8, 8), interp="nearest"), pil(rgb, (8, 8), Image.NEAREST))
    np.testing.assert_array_equal(imresize(np.moveaxis(rgb, -1, 0), (8, 8)), pil(rgb, (8, 8)))  # channels first
    # not uint8: stretched from its own min..max to 0..255 first (SciPy's bytescale)
    dim = rgb / 255.0 * 0.2 + 0.3
    stretched = (((dim - dim.min()) * (255.0 / (dim.max() - dim.min()))).clip(0, 255) + 0.5).astype(np.uint8)
    np.testing.assert_array_equal(imresize(dim, (8, 8)), pil(stretched, (8, 8)))
    gray = imresize(rgb[:, :, 0].astype(np.float32), (5, 5), mode="F")
    assert gray.dtype == np.float32 and gray.shape == (5, 5)
    with pytest.raises(ValueError, match=r"imresize needs an \(h, w\) array or one with 3 or 4 channels"):
        imresize(np.zeros((5, 5, 2)), (2, 2))

    Image.fromarray(rgb).save(tmp_path / "a.png")
    np.testing.assert_array_equal(imread(tmp_path / "a.png"), rgb)
    flat = imread(tmp_path / "a.png", flatten=True)
    assert flat.dtype == np.float32 and flat.shape == (30, 40)
    np.testing.assert_allclose(flat, rgb @ [0.299, 0.587, 0.114], atol=0.51)
    Image.fromarray(rgb).convert("P").save(tmp_path / "p.png")  # a palette image reads as RGB
    assert imread(tmp_path / "p.png").shape == (30, 40, 3)
    Image.fromarray(rgb[:, :, 0] > 128).save(tmp_path / "bw.png")  # 1-bit reads as 0/255 gray
    assert set(np.unique(imread(tmp_path / "bw.png"))) <= {0, 255}
