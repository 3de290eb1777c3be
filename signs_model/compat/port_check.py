"""``signs port --run --check``: the graded functions' printed values against the course's published ones.

Only values that do not depend on the training data are compared (the shipped
training file was rebuilt from the photos, so costs after training differ). A
value is found in the outputs of the cell that calls the graded function, on the
line the course's test cell printed it (``Z3 = ...``).
"""
import re

from .contrib.layers import flatten_graph

_CONV_W1 = [0.00131723, 0.14176141, -0.04434952, 0.09197326, 0.14984085, -0.03514394,
            -0.06847463, 0.05245192]
_CONV_W2 = [-0.08566415, 0.17750949, 0.11974221, 0.16773748, -0.0830943, -0.08058, -0.00577033,
            -0.14643836, 0.24162132, -0.05857408, -0.19055021, 0.1345228, -0.22779644, -0.1601823,
            -0.16117483, -0.10286498]

# assignment -> graded function -> {printed label: published value (numbers, or the printed text)}
PUBLISHED = {
    "tutorial": {
        "linear_function": {"result": [-2.15657382, 2.95891446, -1.08926781, -0.84538042]},
        "sigmoid": {"sigmoid(0)": [0.5], "sigmoid(12)": [0.999994]},
        "cost": {"cost": [1.00538719, 1.03664088, 0.41385433, 0.39956614]},
        "one_hot_matrix": {"one_hot": [0, 0, 0, 1, 0, 0, 1, 0, 0, 0, 0, 1, 0, 1, 0, 0, 1, 0,
                                       0, 0, 1, 0, 0, 0]},
        "ones": {"ones": [1.0, 1.0, 1.0]},
        "create_placeholders": {"X": 'Tensor("X:0", shape=(12288, ?), dtype=float32)',
                                "Y": 'Tensor("Y:0", shape=(6, ?), dtype=float32)'},
        "initialize_parameters": {"W1": "<tf.Variable 'W1:0' shape=(25, 12288) dtype=float32_ref>",
                                  "b1": "<tf.Variable 'b1:0' shape=(25, 1) dtype=float32_ref>",
                                  "W2": "<tf.Variable 'W2:0' shape=(12, 25) dtype=float32_ref>",
                                  "b2": "<tf.Variable 'b2:0' shape=(12, 1) dtype=float32_ref>"},
        "forward_propagation": {"Z3": 'Tensor("Add_2:0", shape=(6, ?), dtype=float32)'},
        "compute_cost": {"cost": 'Tensor("Mean:0", shape=(), dtype=float32)'},
    },
    "convolution": {
        "create_placeholders": {"X": 'Tensor("Placeholder:0", shape=(?, 64, 64, 3), dtype=float32)',
                                "Y": 'Tensor("Placeholder_1:0", shape=(?, 6), dtype=float32)'},
        "initialize_parameters": {"W1": _CONV_W1, "W2": _CONV_W2},
        # by contrib flatten's TF 1.x graph: the v1/v1a notebooks ("1.3"), later ones ("1.4")
        "forward_propagation": {"Z3": {"1.3": [-0.44670227],
                                       "1.4": [1.4416984, -0.24909666, 5.450499, -0.2618962,
                                               -0.20669907, 1.3654671]}},
        "compute_cost": {"cost": {"1.3": [2.91034], "1.4": [4.6648703]}},
    },
}
# Printed only by the later course notebooks (contrib flatten's TF 1.4 graph), in their expected output
LATER_VALUES = ("4.6648703", "1.4416984")
NUMBER = re.compile(r"-?\d+\.?\d*(?:[eE][-+]?\d+)?")
LABELLED = re.compile(r"^([\w()\[\], ]+?) = ", re.M)


def assignment_of(sources):
    """Which assignment a notebook is, from its helper import: "convolution", "tutorial" or None."""
    text = "\n".join(sources)
    if re.search(r"\bcnn_utils\b", text):
        return "convolution"
    if re.search(r"\btf_utils\b", text):
        return "tutorial"
    return None


def expected_flatten_graph(text):
    """"1.4" if a notebook's text shows the later course version's expected values, else None."""
    return "1.4" if any(value in text for value in LATER_VALUES) else None


def printed_values(text):
    """{label: what follows "label = " up to the next labelled line} in a cell's printed text."""
    found = list(LABELLED.finditer(text))
    return {m.group(1).strip(): text[m.end():found[i + 1].start() if i + 1 < len(found) else None].strip()
            for i, m in enumerate(found)}


def differs(printed, published):
    """None if ``printed`` shows ``published`` (numbers: to the digits printed), else why not."""
    if isinstance(published, str):
        # the op's name case: a learner's ``+`` makes "add" where tf.add made "Add"
        return None if printed.lower() == published.lower() else f"printed {printed}, published {published}"
    numbers = [float(n) for n in NUMBER.findall(printed)][:len(published)]
    close = len(numbers) == len(published) and all(
        abs(a - b) <= 1e-5 * max(1.0, abs(b)) for a, b in zip(numbers, published))
    return None if close else f"printed {printed[:120]}, published {published}"


def check_cells(sources, outputs, graph=None, compared=None):
    """Lines "function: label printed X, published Y" for each published value a cell printed otherwise.

    Args:
        sources: the code cells' sources; outputs: their printed text (stdout), in the same order.
        graph: contrib flatten's TF 1.x graph the notebook expects ("1.3", "1.4"); default
            `signs_model.contrib.layers.flatten_graph`.
        compared: a list to which each (function, label) compared is appended.
    """
    assignment = assignment_of(sources)
    if assignment is None:
        return []
    lines = []
    for source, printed in zip(sources, outputs):
        values = printed_values(printed)
        for function, labels in PUBLISHED[assignment].items():
            calls = (len(re.findall(rf"(?<![\w.]){function}\(", source))
                     - len(re.findall(rf"\bdef\s+{function}\(", source)))
            if calls < 1:  # a cell that only defines it prints nothing of it
                continue
            for label, published in labels.items():
                if isinstance(published, dict):
                    published = published[graph or flatten_graph()]
                if label not in values:
                    continue
                if compared is not None:
                    compared.append((function, label))
                if why := differs(values[label], published):
                    lines.append(f"{function}: {label} {why}")
    return lines


def check_notebook(path, graph=None, compared=None):
    """`check_cells` on a notebook that has run, each line starting with the notebook's path."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    cells = [c for c in nb.cells if c.cell_type == "code"]
    outputs = ["".join(o.get("text", "") for o in c.get("outputs", []) if o.get("name") == "stdout")
               for c in cells]
    return [f"{path}: {line}" for line in check_cells([c.source for c in cells], outputs, graph, compared)]
