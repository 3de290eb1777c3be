"""``signs port DIR --run --check`` on our own small corpus of course folders (tests/port_corpus).

Each folder is written for this test (no learner's code): the TensorFlow tutorial
saved from Colab, the convolution assignment with its helper and a ``.py`` export,
scripts in a package importing the helper by its package path, a helper a learner
extended, and a clone whose h5 files are Git LFS pointers. Training in them is one
epoch. A folder is copied to a temporary place with the SIGNS data and a photo added,
as a learner's folder holds them.
"""
import re
import shutil
from pathlib import Path

import nbformat
import pytest

from conftest import lfs_pointers

from signs_model.compat.port_check import check_cells

CORPUS = Path(__file__).parent / "port_corpus"


def stdout(cell):
    return "".join(o.text for o in cell.get("outputs", []) if o.output_type == "stream" and o.name == "stdout")


@pytest.fixture
def course_folder(tmp_path, data_dir, own_images):
    def make(name, data=True):
        folder = tmp_path / name
        shutil.copytree(CORPUS / name, folder)
        if data:
            for target in [folder, *(p.parent for p in folder.rglob("tutorial_script.py"))]:
                (target / "datasets").mkdir(exist_ok=True)
                for h5 in ("train_signs.h5", "test_signs.h5"):
                    shutil.copy(Path(data_dir) / h5, target / "datasets" / h5)
            (folder / "images").mkdir()
            shutil.copy(own_images[0], folder / "images" / "thumbs_up.jpg")
        before = {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()}
        return folder, before
    return make


def port(run_cli, folder, *args):
    out = folder.parent / f"{folder.name}_ported"
    code, printed, err = run_cli("port", folder, "-o", out, "--run", "--timeout", 300, *args)
    return code, printed, err, out


def unchanged(folder, before):
    return {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()} == before


def test_tutorial_saved_from_colab(course_folder, run_cli, monkeypatch):
    monkeypatch.delenv("SIGNS_DATA_DIR", raising=False)  # the folder's own datasets/
    folder, before = course_folder("tutorial_colab")
    code, out, err, ported = port(run_cli, folder, "--check")
    assert code == 0, out + err
    assert "TensorFlow_Tutorial.ipynb (notebook): 5 line(s) changed, 0 added, 5 note(s)" in out
    assert "tf_utils.py (helper): 1 line(s) changed" in out
    for note in ("code cell 1, line 1: google.colab does nothing here",
                 "code cell 1, line 2: /content/drive is a Colab path",
                 "code cell 2, line 1: package install not run",
                 "code cell 3, line 1: Colab's %tensorflow_version does nothing here",
                 "code cell 5, line 1: /content/drive/My Drive/week3 is a Colab path"):
        assert f"  note: {note}" in out
    assert "1 of 1 ran to the end" in out
    assert "check: 10 printed value(s) compared, 0 differ from the course's published ones" in out
    nb = nbformat.read(ported / "TensorFlow_Tutorial.ipynb", as_version=4)
    printed = "".join(stdout(c) for c in nb.cells)
    (sigmoid_12,) = re.findall(r"^sigmoid\(12\) = (\S+)$", printed, re.M)
    assert round(float(sigmoid_12), 6) == 0.999994  # the course's printed value
    assert re.search(r"^Cost after epoch 0: \d", printed, re.M)
    assert unchanged(folder, before)


def test_convolution_assignment_prints_the_course_values(course_folder, run_cli, monkeypatch):
    monkeypatch.delenv("SIGNS_DATA_DIR", raising=False)
    monkeypatch.delenv("SIGNS_TF1_FLATTEN", raising=False)
    folder, before = course_folder("convolution")
    code, out, err, ported = port(run_cli, folder, "--check")
    assert code == 0, out + err
    assert "cnn_utils.py (helper)" in out and "convolution_model.py (script)" in out
    assert "2 of 2 ran to the end" in out
    assert "check: 6 printed value(s) compared, 0 differ" in out
    nb = nbformat.read(ported / "Convolution_model_Application_v1a.ipynb", as_version=4)
    printed = "".join(stdout(c) for c in nb.cells)
    assert "from signs_model.cnn_utils import *" in nb.cells[0].source
    # the course's v1/v1a Expected Output: Z3[0,0] -0.44670227 and cost 2.91034
    (z3,) = re.findall(r"^Z3 = \[\[\s*(\S+)", printed, re.M)
    assert abs(float(z3) + 0.44670227) <= 2e-6 * 6  # a few ulps of the convolution sums
    (cost,) = re.findall(r"^cost = (\S+)$", printed, re.M)
    assert float(cost) == pytest.approx(2.91034, abs=5e-6)
    assert "my_image shape = (64, 64, 3)" in printed
    assert unchanged(folder, before)


def test_scripts_by_package_path_and_the_failures_that_stay(course_folder, run_cli, monkeypatch):
    monkeypatch.delenv("SIGNS_DATA_DIR", raising=False)
    folder, before = course_folder("package_scripts")
    code, out, err, ported = port(run_cli, folder)
    assert code == 1
    assert "dl_02/dl_02_03/tf_utils.py (helper)" in out and "dl_02/__init__.py (module)" in out
    assert (ported / "dl_02" / "dl_02_03" / "tutorial_script.py").read_text().splitlines()[3] == \
        "from signs_model.tf_utils import load_dataset, random_mini_batches, convert_to_one_hot"
    assert "note: line 6: tf.layers.batch_normalization needs Keras 2" in out
    assert re.search(r"running dl_02/dl_02_03/tutorial_script.py \.\.\.\n(.*\n)?  ran to the end", out)
    assert f"  failed: {ported / 'extra_layers.py'}: line 6 (A1 = tf.nn.relu(tf.layers.batch_normalization" in out
    # the learner's own bug stays a failure, on the learner's line
    assert (f"  failed: {ported / 'learner_bug.py'}: line 14 (print(model(" in out
            and "UnboundLocalError: cannot access local variable 'cost'" in out)
    assert "1 of 3 ran to the end" in out
    assert unchanged(folder, before)


def test_a_helper_the_learner_extended_is_kept(course_folder, run_cli, monkeypatch):
    monkeypatch.delenv("SIGNS_DATA_DIR", raising=False)
    folder, _ = course_folder("changed_helper")
    code, out, err, ported = port(run_cli, folder)
    assert code == 0, out + err
    assert "note: file: defines more than the course's tf_utils" in out
    nb = nbformat.read(ported / "Tutorial_with_plots.ipynb", as_version=4)
    assert "from tf_utils import load_dataset, convert_to_one_hot, count_per_class" in nb.cells[0].source
    counts = [float(n) for n in re.findall(r"[\d.]+", stdout(nb.cells[1]).split(":")[1])]
    assert sum(counts) == 1080 and len(counts) == 6
    assert "1 of 1 ran to the end" in out


def test_git_lfs_pointers_get_one_line_each(course_folder, run_cli, monkeypatch):
    monkeypatch.delenv("SIGNS_DATA_DIR", raising=False)
    folder, _ = course_folder("lfs_pointers", data=False)
    lfs_pointers(folder / "datasets")
    code, out, err, ported = port(run_cli, folder)
    assert code == 1
    for name in ("test_signs.h5", "train_signs.h5"):
        assert (f"warning: {folder / 'datasets' / name} is a Git LFS pointer, not the data file itself; "
                f"fetch the real file with `git lfs pull` in the repository it came from\n") in out
    assert re.search(r"failed: .*Tutorial.ipynb: code cell 2 \(.*\) SignsError: datasets/train_signs.h5 is "
                     r"a Git LFS pointer", out)
    assert "0 of 1 ran to the end" in out


def test_check_lists_each_value_that_differs(monkeypatch):
    monkeypatch.delenv("SIGNS_TF1_FLATTEN", raising=False)
    sources = ["from cnn_utils import *", "def forward_propagation(X, parameters):\n    pass",
               "Z3 = forward_propagation(X, parameters)\nprint('Z3 = ' + str(a))",
               "cost = compute_cost(Z3, Y)\nprint('cost = ' + str(a))"]
    later = ["", "", "Z3 = [[ 1.4416984  -0.24909666  5.450499   -0.2618962  -0.20669907  1.3654671 ]\n"
             " [ 1.4070846  -0.02573211  5.08928    -0.48669922 -0.40940708  1.2624859 ]]\n",
             "cost = 4.6648703\n"]
    lines = check_cells(sources, later)
    assert [line.split(":")[0] for line in lines] == ["forward_propagation", "compute_cost"]
    assert lines[1] == "compute_cost: cost printed 4.6648703, published [2.91034]"
    # the later course version's values, with contrib flatten's TF 1.4 graph
    monkeypatch.setenv("SIGNS_TF1_FLATTEN", "1.4")
    assert check_cells(sources, later) == []
    # the tutorial: a tensor's printed text
    assert check_cells(["from tf_utils import *", "X, Y = create_placeholders(12288, 6)\nprint(X)"],
                       ["", 'X = Tensor("X_1:0", shape=(12288, ?), dtype=float32)\n']) == [
        'create_placeholders: X printed Tensor("X_1:0", shape=(12288, ?), dtype=float32), published '
        'Tensor("X:0", shape=(12288, ?), dtype=float32)']


def test_a_later_course_version_gets_its_own_numbers(tmp_path, run_cli, monkeypatch):
    # The later convolution notebooks expect Z3[0,0] 1.4416984 and cost 4.6648703 (contrib flatten's
    # TF 1.4 graph); their expected output says so, and port runs them with that graph.
    monkeypatch.delenv("SIGNS_TF1_FLATTEN", raising=False)
    nb = nbformat.read(CORPUS / "convolution" / "Convolution_model_Application_v1a.ipynb", as_version=4)
    graded = [c for c in nb.cells if "create_placeholders" in c.source or "initialize_parameters" in c.source
              or "forward_propagation" in c.source or "compute_cost" in c.source]
    graded = [c for c in graded if "def model" not in c.source]
    nb.cells = [nb.cells[0], *graded, nbformat.v4.new_markdown_cell("**Expected Output**: cost = 4.6648703")]
    nbformat.write(nb, tmp_path / "later.ipynb")
    code, out, err = run_cli("port", tmp_path / "later.ipynb", "--run", "--check", "--timeout", 300)
    assert code == 0, out + err
    assert "note: its expected output is the later course version's: run with contrib flatten's TF 1.4 graph" in out
    assert "check: 6 printed value(s) compared, 0 differ" in out
    printed = "".join(stdout(c) for c in nbformat.read(tmp_path / "later_tf2.ipynb", as_version=4).cells)
    (cost,) = re.findall(r"^cost = (\S+)$", printed, re.M)
    assert float(cost) == pytest.approx(4.6648703, rel=1e-6)
