"""The figures hold what they claim: axes, scales, labels, the plotted points; and the PNG reads back."""

import numpy as np
import pytest
from matplotlib.collections import PathCollection
from matplotlib.patches import Rectangle
from PIL import Image

from signs_model import plots
from signs_model.experiments import GoodRange
from signs_model.search.space import SearchSpace

SPACE = SearchSpace.from_dict({
    "learning_rate": {"scale": "log", "low": 1e-4, "high": 1e-2},
    "beta1": {"scale": "one_minus_log", "low": 0.8, "high": 0.999},
    "minibatch_size": {"scale": "choice", "values": [16, 32, 64]},
})


def row(rnd, trial, lr, beta1, mb, acc, status="ok"):
    return {"round": rnd, "trial": trial, "learning_rate": lr, "beta1": beta1,
            "minibatch_size": mb, "dev_accuracy": acc if status == "ok" else None, "status": status}


ROWS = [row(0, 0, 1e-3, 0.9, 32, 0.6), row(0, 1, 3e-3, 0.99, 16, 0.7),
        row(0, 2, 5e-4, 0.95, 64, None, "pruned"), row(1, 0, 2e-3, 0.98, 32, 0.8)]


def scatter_points(ax):
    """(x, y) offsets of every scatter on ``ax``, collection by collection."""
    return [c.get_offsets() for c in ax.collections if isinstance(c, PathCollection)]


def png_size(path):
    with Image.open(path) as image:
        image.load()
        return image.size


def test_cost_curve_has_one_point_per_cost_and_the_course_labels(tmp_path):
    costs = [1.8, 1.2, 0.9, 0.7]
    fig = plots.plot_costs(costs, 0.0001, path=tmp_path / "cost.png", show=False)
    (ax,) = fig.axes
    (line,) = ax.get_lines()
    np.testing.assert_array_equal(line.get_ydata(), costs)
    assert (ax.get_xlabel(), ax.get_ylabel(), ax.get_title()) == (
        "iterations (per fives)", "cost", "Learning rate = 0.0001")
    width, height = png_size(tmp_path / "cost.png")
    assert width > 300 and height > 200


def test_lr_range_plots_each_variant_on_a_log_axis_and_marks_failures(tmp_path):
    rows = [{"batch_norm": bn, "learning_rate": lr, "dev_accuracy": acc, "status": status}
            for bn, lr, acc, status in ((False, 1e-4, 0.5, "ok"), (False, 1e-2, 0.0, "diverged"),
                                        (True, 1e-4, 0.6, "ok"), (True, 1e-2, 0.9, "ok"))]
    summary = {False: GoodRange(0.5, 1e-4, 1e-4, 1e-4, 0.0, True),
               True: GoodRange(0.9, 1e-2, 1e-2, 1e-2, 0.0, True)}
    fig = plots.plot_lr_range(rows, summary, path=tmp_path / "lr.png", show=False, chance=1 / 6,
                              label=lambda bn: "BN" if bn else "plain")
    (ax,) = fig.axes
    assert ax.get_xscale() == "log"
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("learning rate", "dev accuracy")
    lines = {line.get_label(): line for line in ax.get_lines()}
    np.testing.assert_allclose(lines["BN"].get_ydata(), [0.6, 0.9])
    np.testing.assert_allclose(lines["plain"].get_xdata(), [1e-4, 1e-2])
    np.testing.assert_allclose(lines["plain: diverged"].get_xdata(), [1e-2])  # the x at 0
    assert any(label.startswith("chance (0.167)") for label in lines)
    assert png_size(tmp_path / "lr.png")[0] > 300


def test_confusion_matrix_shows_the_counts_with_true_rows_and_predicted_columns(tmp_path):
    confusion = np.array([[5, 1, 0], [0, 3, 2], [1, 0, 4]])
    fig = plots.plot_confusion(confusion, title="photos", path=tmp_path / "c.png", show=False)
    (ax,) = fig.axes
    np.testing.assert_array_equal(ax.get_images()[0].get_array(), confusion)
    texts = {(round(t.get_position()[1]), round(t.get_position()[0])): t.get_text() for t in ax.texts}
    assert texts == {(i, j): str(confusion[i, j]) for i in range(3) for j in range(3)}
    assert (ax.get_xlabel(), ax.get_ylabel(), ax.get_title()) == ("predicted digit", "true digit",
                                                                  "photos")
    assert png_size(tmp_path / "c.png")[0] > 100


def test_contact_sheet_draws_each_wrong_photo_up_to_the_limit(own_images, tmp_path):
    wrong = [{"image": str(p), "true": 3, "predicted": 5, "confidence": 0.75} for p in own_images[:5]]
    fig = plots.plot_contact_sheet(wrong, path=tmp_path / "w.png", show=False, columns=2, limit=3)
    assert len(fig.axes) == 3
    assert fig._suptitle.get_text() == "5 wrong, the first 3 shown"
    assert fig.axes[0].get_title().startswith("true 3, predicted 5\np=0.75 ")
    assert fig.axes[0].get_images()[0].get_array().shape == (64, 64, 3)  # as the network sees it
    assert plots.plot_contact_sheet([], show=False)._suptitle.get_text() == "no wrong predictions"


def test_dev_accuracy_has_one_panel_per_axis_on_its_sampling_scale():
    fig = plots.plot_dev_accuracy(ROWS, SPACE, show=False)
    assert len(fig.axes) == len(SPACE)
    lr, beta1, mb = fig.axes
    assert (lr.get_xscale(), lr.get_xlabel()) == ("log", "learning_rate")
    assert (beta1.get_xscale(), beta1.get_xlabel()) == ("log", "1 - beta1")
    assert (mb.get_xscale(), mb.get_xlabel()) == ("linear", "minibatch_size")
    assert [t.get_text() for t in mb.get_xticklabels()] == ["16", "32", "64"]
    round0, round1 = scatter_points(lr)  # finished trials only, one collection per round
    np.testing.assert_allclose(round0, [[1e-3, 0.6], [3e-3, 0.7]])
    np.testing.assert_allclose(round1, [[2e-3, 0.8]])
    np.testing.assert_allclose(scatter_points(beta1)[0][:, 0], [0.1, 0.01], rtol=1e-9)
    np.testing.assert_array_equal(scatter_points(mb)[0][:, 0], [1, 0])  # index of 32, of 16
    assert [t.get_text() for t in lr.get_legend().get_texts()] == ["round 0", "round 1"]


def test_rounds_plot_marks_unfinished_trials_and_boxes_the_zoomed_space():
    zoomed = SPACE.zoom([{"learning_rate": 2e-3, "beta1": 0.98, "minibatch_size": 32, "score": 0.8}])
    fig = plots.plot_rounds(ROWS, [SPACE, zoomed], show=False)
    (ax,) = fig.axes
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("learning_rate", "1 - beta1")
    assert (ax.get_xscale(), ax.get_yscale()) == ("log", "log")
    ok0, unfinished0, ok1, unfinished1 = scatter_points(ax)
    assert (len(ok0), len(unfinished0), len(ok1), len(unfinished1)) == (2, 1, 1, 0)
    np.testing.assert_allclose(unfinished0, [[5e-4, 1 - 0.95]])
    (box,) = [p for p in ax.patches if isinstance(p, Rectangle)]
    z_lr, z_beta = zoomed["learning_rate"], zoomed["beta1"]
    assert box.get_x() == pytest.approx(z_lr.low)
    assert box.get_x() + box.get_width() == pytest.approx(z_lr.high)
    assert sorted([box.get_y(), box.get_y() + box.get_height()]) == pytest.approx(
        sorted([1 - z_beta.low, 1 - z_beta.high]))
