"""What ``signs port`` does to one line of course-era code: the rewrite, or a note saying why it will fail.

`port_line` is the whole rule set; `signs_model.compat.port` applies it to notebooks
and files. A rewritten line keeps its place (line numbers stay those of the
original), and a line that must not run (a ``!pip install``, a Colab magic)
becomes ``pass  # signs port: ...`` so that a block around it stays valid Python.
"""
import re

from .contrib import PROVIDED, missing

# The course's helper modules that the package replaces (signs_model.tf_utils, signs_model.cnn_utils)
HELPERS = ("tf_utils", "cnn_utils")
IMAGE_IMPORT = "from signs_model.course_image import imread, imresize"
IMAGE_FUNCTIONS = {"imread", "imresize"}
# SciPy's other removed image functions, and what does their job now
SCIPY_REMOVED = {"imsave": "PIL.Image.fromarray(array).save(path)",
                 "toimage": "PIL.Image.fromarray(array)",
                 "fromimage": "np.asarray(image)",
                 "imrotate": "np.asarray(PIL.Image.fromarray(array).rotate(angle))",
                 "bytescale": "np.uint8(255 * (a - a.min()) / (a.max() - a.min()))",
                 "imshow": "matplotlib.pyplot.imshow(array)"}
# tf.layers needs Keras 2, which TF 2.21 does not ship with; what does the same job in graph mode
TF_LAYERS = {"dense": "tf.contrib.layers.fully_connected(x, units, activation_fn=...)",
             "flatten": "tf.contrib.layers.flatten(x)",
             "conv2d": "tf.nn.conv2d(x, W, strides, padding) with W from tf.get_variable",
             "max_pooling2d": "tf.nn.max_pool(x, ksize, strides, padding)",
             "average_pooling2d": "tf.nn.avg_pool(x, ksize, strides, padding)",
             "dropout": "tf.nn.dropout(x, rate=rate)",
             "batch_normalization": "tf.nn.moments and tf.nn.batch_normalization on your own "
                                    "gamma and beta variables (signs_model.batch_norm does this)"}

# (pattern, replacement), tried on each line in this order
REWRITES = (
    # SciPy's removed image functions, called through their module
    (re.compile(r"(?<![\w.])(?:scipy\.)?(?:ndimage|misc)\.(imread|imresize)\("), r"\1("),
    # Colab: google.colab's drive, files, ... do nothing here (signs_model.colab)
    (re.compile(r"^(\s*)from\s+google\.colab(?:\.\w+)*\s+import\b"), r"\1from signs_model.colab import"),
)
IMPORT = re.compile(r"^(\s*)import\s+([\w.]+(?:\s+as\s+\w+)?(?:\s*,\s*[\w.]+(?:\s+as\s+\w+)?)*)(\s*(?:#.*)?)$")
HELPER_FROM = re.compile(rf"^(\s*)from\s+(?:[\w.]+\.)?({'|'.join(HELPERS)})\s+import\b")
HELPER_MODULE = re.compile(rf"^(\s*)from\s+[\w.]+\s+import\s+({'|'.join(HELPERS)})\b(?=\s*(?:as\s+\w+\s*)?(?:#.*)?$)")
CONTRIB_IMPORT = re.compile(r"^\s*(?:from\s+tensorflow\.(contrib[\w.]*)\s+import\s+([^#]*)"
                            r"|import\s+tensorflow\.(contrib[\w.]*))")
CONTRIB_USE = re.compile(r"(?<![\w])\w+\.contrib\.(\w+)(?:\.(\w+))?")
SCIPY_IMPORT = re.compile(r"^\s*from\s+scipy\.(?:misc|ndimage)\s+import\s+([^#]*)")
SCIPY_CALL = re.compile(r"(?<![\w.])(?:scipy\.)?misc\.(\w+)\(")
TF_LAYERS_USE = re.compile(r"(?<![\w.])(?:tf|tensorflow)\.layers\.(\w+)")
# A notebook's shell and magic lines that would change the environment or only mean something on Colab
INSTALL = re.compile(r"^(\s*)[!%]\s*(?:pip3?|python3?\s+-m\s+pip|conda)\s+install\b(.*)$")
MAGIC_TF_VERSION = re.compile(r"^(\s*)%tensorflow_version\b")
IPYTHON_IN_SCRIPT = re.compile(r"^(\s*)get_ipython\(\)\.")
MAGIC_IN_SCRIPT = re.compile(r"^(\s*)[%!]\w")  # never Python: a notebook line pasted into a .py file
CONTENT_PATH = re.compile(r"""(?<![\w/.:~])(/content\b(?:[^'"\s),]|\s(?=\w+/))*)""")
GLOROT_NORMAL = re.compile(r"glorot_normal|GlorotNormal|he_normal|HeNormal")
KERAS_SEEDED = re.compile(r"keras\.initializers\.(\w+)\([^)]*\bseed\b")


def _names(imported):
    """The names of ``a, b as c, (d)`` in an import line."""
    return [n.split()[0] for n in imported.replace("(", "").replace(")", "").split(",") if n.strip()]


def _unprovided(path):
    """None if ``tf.<path>`` (``contrib.layers.flatten``) is provided here, else why not."""
    parts = path.split(".")
    if len(parts) == 1:  # tf.contrib itself
        return None
    if parts[1] != "layers":
        return str(missing(".".join(parts[:2])))
    if len(parts) > 2 and parts[2] not in PROVIDED:
        return str(missing(".".join(parts[:3])))
    return None


def _removed(name):
    return f"scipy.misc.{name} was removed in SciPy 1.2; use {SCIPY_REMOVED[name]} instead"


def _neutralised(indent, line):
    return f"{indent}pass  # signs port: not run: {line.strip()}"


def _port_import(m, local):
    """``import a, b as c, ...``: each TensorFlow or course-helper name pointed at the package's."""
    pieces, notes = [], []
    for piece in (p.strip() for p in m.group(2).split(",")):
        words = piece.split()
        name, alias = words[0], (words[2] if len(words) == 3 else "")
        last = name.split(".")[-1]
        if name in ("tensorflow", "tensorflow.compat.v1") and (alias or name == "tensorflow"):
            piece = f"signs_model.tf1 as {alias or 'tensorflow'}"
        elif last in HELPERS and last not in local:
            if alias or "." not in name:
                piece = f"signs_model.{last} as {alias or last}"
            else:
                notes.append(f"{name} is the course helper {last}: write `import signs_model.{last} as "
                             f"{last}` and call {last}.<function> instead of {name}.<function>")
        pieces.append(piece)
    return f"{m.group(1)}import {', '.join(pieces)}{m.group(3)}", notes


def _shell_line(line, notebook):
    """A line that must not run here: (neutralised line, note), else None."""
    m = INSTALL.match(line)
    if m and notebook:
        what = m.group(2).strip()
        if re.search(r"\btensorflow(?:-gpu)?\b", what):
            why = ("TensorFlow 1.x need not be installed: the copy runs on this TensorFlow through "
                   "signs_model.tf1")
        else:
            why = f"install what is missing yourself if an import fails ({what})"
        return _neutralised(m.group(1), line), f"package install not run (signs port never changes " \
                                               f"your environment); {why}"
    m = MAGIC_TF_VERSION.match(line)
    if m and notebook:
        return _neutralised(m.group(1), line), ("Colab's %tensorflow_version does nothing here; TF 1.x's "
                                                "API comes from signs_model.tf1")
    m = IPYTHON_IN_SCRIPT.match(line) or MAGIC_IN_SCRIPT.match(line)
    if m and not notebook:
        return _neutralised(m.group(1), line), ("an IPython-only line (a notebook's magic or shell "
                                                "command) does not run in a Python script")
    return None


def _numerics_notes(line):
    """Lines that run but will not draw TF 1.x's (the course's) numbers."""
    notes = []
    if GLOROT_NORMAL.search(line):
        notes.append("a normal (glorot_normal/he_normal) initializer: the course's "
                     "tf.contrib.layers.xavier_initializer() drew a uniform, so the weights and costs "
                     "will not be the course's; use xavier_initializer(seed=...) to get them")
    m = KERAS_SEEDED.search(line)
    if m:
        notes.append(f"keras.initializers.{m.group(1)} with a seed draws from Keras 3's own random "
                     f"stream, not TF 1.x's: the course's numbers come from "
                     f"tf.contrib.layers.xavier_initializer(seed=...)")
    return notes


def port_line(line, notebook=True, local=()):
    """One line rewritten: (new line, notes). Notes say why the line will still fail or differ.

    Args:
        notebook: the line is in a notebook cell (shell ``!`` and ``%`` magics are IPython's).
        local: course-helper names (``tf_utils``) to keep importing from the learner's own
            (ported) copy, because it holds more than the course's.
    """
    neutral = _shell_line(line, notebook)
    if neutral:
        return neutral[0], [neutral[1]]
    notes = [f"{path} is a Colab path: put the file in this folder and use a relative path"
             for path in CONTENT_PATH.findall(line) if not line.lstrip().startswith("#")]
    m = CONTRIB_IMPORT.match(line)
    if m:
        paths = ([f"{m.group(1)}.{n}" for n in _names(m.group(2))] if m.group(1) else [m.group(3)])
        why = [why for why in map(_unprovided, paths) if why]
        return (line, notes + why[:1]) if why else (line.replace("tensorflow.contrib", "signs_model.contrib", 1),
                                                     notes)
    m = SCIPY_IMPORT.match(line)
    if m:
        names = set(_names(m.group(1)))
        if names <= IMAGE_FUNCTIONS:
            return re.sub(r"scipy\.(?:misc|ndimage)", "signs_model.course_image", line, count=1), notes
        notes += [_removed(name) for name in sorted(names & set(SCIPY_REMOVED))]
        if names & IMAGE_FUNCTIONS:
            notes.append(f"SciPy 1.2 removed {' and '.join(sorted(names & IMAGE_FUNCTIONS))}; import "
                         f"from signs_model.course_image instead, on a line of its own")
        return line, notes
    m = IMPORT.match(line)
    if m:
        line, why = _port_import(m, local)
        notes += why
    for pattern, replacement in ((HELPER_FROM, r"\1from signs_model.\2 import"),
                                 (HELPER_MODULE, r"\1from signs_model import \2")):
        m = pattern.match(line)
        if m and m.group(2) not in local:
            line = pattern.sub(replacement, line, count=1)
    if re.match(r"^\s*from\s+google\.colab\b", line):
        notes.append("google.colab does nothing here (drive.mount and the rest are no-ops): the copy "
                     "reads files from its own folder")
    for pattern, replacement in REWRITES:
        line = pattern.sub(replacement, line)
    notes += [why for a, b in CONTRIB_USE.findall(line)
              if (why := _unprovided(f"contrib.{a}" + (f".{b}" if b else "")))]
    notes += [_removed(name) for name in SCIPY_CALL.findall(line) if name in SCIPY_REMOVED]
    notes += [f"tf.layers.{name} needs Keras 2, which TensorFlow 2.21 does not ship with; use "
              f"{TF_LAYERS.get(name, 'tf.nn ops on tf.get_variable weights')} instead"
              for name in TF_LAYERS_USE.findall(line)]
    return line, notes + _numerics_notes(line)
