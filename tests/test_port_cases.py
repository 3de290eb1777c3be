"""``signs port`` on the lines and paths that used to end badly: each case here failed before.

Quick tier: line rewrites are checked without running anything; the runs are a few
seconds of plain Python (no training).
"""
import os
import time

import nbformat
import pytest

from conftest import lfs_pointers

from signs_model.errors import SignsError
from signs_model.compat.port_rules import port_line


def write_notebook(path, *cells):
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells]), path)
    return path


def test_out_naming_an_unrelated_file_is_refused_unless_forced(tmp_path, run_cli):
    source = tmp_path / "week3.py"
    source.write_text("import tensorflow as tf\nprint(tf.placeholder)\n")
    mine = tmp_path / "my_notes.py"
    mine.write_text("# my own notes, not a port\n")
    code, out, err = run_cli("port", source, "-o", mine)
    assert code == 2
    assert err == (f"signs: error: argument --out: {mine} exists and is not an earlier signs port copy "
                   f"of week3.py; expected a new name (or force, to replace it)\n")
    assert mine.read_text() == "# my own notes, not a port\n"
    # an earlier port of the same file is replaced without asking; --force replaces anything
    assert run_cli("port", source, "-o", tmp_path / "week3_new.py")[0] == 0
    assert run_cli("port", source, "-o", tmp_path / "week3_new.py")[0] == 0
    code, out, err = run_cli("port", source, "-o", mine, "--force")
    assert code == 0, err
    assert "import signs_model.tf1 as tf" in mine.read_text()
    # a notebook too
    nb = write_notebook(tmp_path / "course.ipynb", "import tensorflow as tf")
    other = write_notebook(tmp_path / "other.ipynb", "print('mine')")
    before = other.read_bytes()
    assert run_cli("port", nb, "-o", other)[0] == 2
    assert other.read_bytes() == before
    assert run_cli("port", nb, "-o", tmp_path / "course_copy.ipynb")[0] == 0
    assert run_cli("port", nb, "-o", tmp_path / "course_copy.ipynb")[0] == 0


def test_out_in_a_missing_folder_says_so(tmp_path, run_cli):
    source = tmp_path / "week3.py"
    source.write_text("import tensorflow as tf\n")
    code, out, err = run_cli("port", source, "-o", tmp_path / "nodir" / "sub" / "out.py")
    assert code == 2
    assert err == (f"signs: error: argument --out: {tmp_path / 'nodir' / 'sub' / 'out.py'}: the folder "
                   f"{tmp_path / 'nodir' / 'sub'} does not exist; expected an existing folder for the copy\n")
    assert not (tmp_path / "nodir").exists()


def test_pip_install_cells_are_neutralised_with_a_note(tmp_path, run_cli):
    nb = write_notebook(tmp_path / "colab.ipynb", "!pip install tensorflow==1.15.0",
                        "%tensorflow_version 1.x", "import tensorflow as tf\nprint(tf.placeholder)")
    code, out, err = run_cli("port", nb, "--run", "--timeout", 120)
    assert code == 0, err
    assert "note: code cell 1, line 1: package install not run (signs port never changes your environment)" in out
    assert "note: code cell 2, line 1: Colab's %tensorflow_version does nothing here" in out
    ported = nbformat.read(tmp_path / "colab_tf2.ipynb", as_version=4)
    assert ported.cells[0].source == "pass  # signs port: not run: !pip install tensorflow==1.15.0"
    # no pip ran: the cell printed nothing
    assert ported.cells[0].outputs == [] and ported.cells[0].execution_count == 1
    # any other install is not run either, and the note names it
    line, notes = port_line("  !pip install -q h5py")
    assert line == "  pass  # signs port: not run: !pip install -q h5py"
    assert notes[0].endswith("install what is missing yourself if an import fails (-q h5py)")


def test_multi_name_imports_are_ported(tmp_path, run_cli):
    source = tmp_path / "week3.py"
    source.write_text("import numpy as np, tensorflow as tf\nx = tf.placeholder(tf.float32, [None, 2])\n"
                      "print(np.zeros(1), x.shape)\n")
    code, out, err = run_cli("port", source, "--run", "--timeout", 120)
    assert code == 0, err
    assert "  + import numpy as np, signs_model.tf1 as tf\n" in out
    assert port_line("import os, tf_utils, cnn_utils as cu  # helpers")[0] == \
        "import os, signs_model.tf_utils as tf_utils, signs_model.cnn_utils as cu  # helpers"
    assert port_line("import tensorflow, numpy")[0] == "import signs_model.tf1 as tensorflow, numpy"


def _alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ")[1][0] != "Z"  # a zombie has ended
    except FileNotFoundError:
        return False


SPAWNS = ("import subprocess, sys, time\n"
          "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(120)'])\n"
          "open('child.pid', 'w').write(str(child.pid))\n"
          "time.sleep(120)")


@pytest.mark.parametrize("suffix", [".py", ".ipynb"])
def test_timeout_ends_the_scripts_children_too(tmp_path, run_cli, suffix):
    source = tmp_path / f"spawns{suffix}"
    if suffix == ".py":
        source.write_text(SPAWNS + "\n")
        limit = "ran past the time limit of 5 s"
    else:  # the kernel's process group is ended by jupyter_client
        write_notebook(source, SPAWNS)
        limit = "code cell 1 (import subprocess, sys, time) ran past the time limit of 5 s per cell"
    code, out, err = run_cli("port", source, "--run", "--timeout", 5)
    assert code == 1
    assert err == f"signs: error: {tmp_path / ('spawns_tf2' + suffix)}: {limit}\n"
    pid = int((tmp_path / "child.pid").read_text())
    deadline = time.monotonic() + 10
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    alive = _alive(pid)
    if alive:
        os.kill(pid, 9)
    assert not alive, "the script's child outlived the time limit"


def test_helper_imports_by_any_path():
    assert port_line("from dl_02.dl_02_03.tf_utils import load_dataset, predict")[0] == \
        "from signs_model.tf_utils import load_dataset, predict"
    assert port_line("from cnn_utils import *")[0] == "from signs_model.cnn_utils import *"
    assert port_line("from dl_02.dl_02_03 import tf_utils as tu")[0] == "from signs_model import tf_utils as tu"
    assert port_line("import cnn_utils")[0] == "import signs_model.cnn_utils as cnn_utils"
    # a learner's own copy that holds more than the course's is kept
    assert port_line("from tf_utils import mine", local={"tf_utils"})[0] == "from tf_utils import mine"
    line, notes = port_line("import dl_02.tf_utils")
    assert line == "import dl_02.tf_utils" and "import signs_model.tf_utils as tf_utils" in notes[0]


def test_colab_lines():
    line, notes = port_line("from google.colab import drive")
    assert line == "from signs_model.colab import drive" and "no-ops" in notes[0]
    from signs_model.colab import drive, files

    assert drive.mount("/content/drive", force_remount=True) is None and files.upload() is None
    line, notes = port_line("df = open('/content/drive/My Drive/week3/data.csv')")
    assert notes == ["/content/drive/My Drive/week3/data.csv is a Colab path: put the file in this "
                     "folder and use a relative path"]
    assert port_line("# mounted at /content/drive")[1] == []
    # in a script, IPython's lines from a notebook export
    line, notes = port_line("get_ipython().system('pip install tensorflow==1.15')", notebook=False)
    assert line.startswith("pass  # signs port: not run: get_ipython()") and "IPython-only" in notes[0]


def test_tf_layers_and_numerics_notes():
    _, notes = port_line("Z = tf.layers.batch_normalization(Z, training=True)")
    assert notes == ["tf.layers.batch_normalization needs Keras 2, which TensorFlow 2.21 does not ship "
                     "with; use tf.nn.moments and tf.nn.batch_normalization on your own gamma and beta "
                     "variables (signs_model.batch_norm does this) instead"]
    _, notes = port_line("init = tf.glorot_normal_initializer(seed=1)")
    assert "the course's tf.contrib.layers.xavier_initializer() drew a uniform" in notes[0]
    _, notes = port_line("init = tf.keras.initializers.GlorotUniform(seed=1)")
    assert notes[0].startswith("keras.initializers.GlorotUniform with a seed draws from Keras 3's own")
    assert port_line("init = tf.contrib.layers.xavier_initializer(seed=1)")[1] == []


def test_folder_out_checks(tmp_path, run_cli):
    course = tmp_path / "course"
    course.mkdir()
    (course / "week3.py").write_text("import tensorflow as tf\n")
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "mine.txt").write_text("mine")
    cases = [(["-o", course / "inside"], "lies in the input folder"),
             (["-o", tmp_path / "nodir" / "out"], "the folder"),
             (["-o", tmp_path / "full"], "exists and is not an earlier signs port copy of"),
             (["--check"], "argument --check: check compares what a run printed; expected run too")]
    for args, message in cases:
        code, out, err = run_cli("port", course, *args)
        assert code == 2 and message in err and err.count("\n") == 1, (args, err)
    assert (tmp_path / "full" / "mine.txt").read_text() == "mine"
    assert sorted(p.name for p in course.iterdir()) == ["week3.py"]
    code, out, err = run_cli("port", course)
    assert code == 0, err
    assert (tmp_path / "course_tf2" / "week3.py").read_text().startswith("import signs_model.tf1 as tf\n")
    assert "week3.py (script): 1 line(s) changed, 0 added" in out


def test_lfs_pointer_named_by_load_dataset(tmp_path, run_cli):
    pointer = lfs_pointers(tmp_path / "datasets")
    from signs_model.data import load_dataset

    with pytest.raises(SignsError, match=r"train_signs.h5 is a Git LFS pointer, not the data file itself; "
                                         r"fetch the real file with `git lfs pull`"):
        load_dataset(pointer)
    code, out, err = run_cli("data", "info", "--data-dir", pointer)
    assert code == 2 and "is a Git LFS pointer" in err and err.count("\n") == 1
