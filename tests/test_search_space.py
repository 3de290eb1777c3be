"""Tests for signs_model.search.space: sampling on the right scale, grid, zoom, refusals."""
import json
import math
from collections import Counter

import numpy as np
import pytest

from signs_model.errors import SignsError
from signs_model.config import TrainConfig
from signs_model.search.space import Param, SearchSpace, config_changes

LECTURE = {
    "learning_rate": {"scale": "log", "low": 1e-4, "high": 1},
    "beta1": {"scale": "one_minus_log", "low": 0.9, "high": 0.999},
    "hidden_units_1": {"scale": "int", "low": 10, "high": 50},
    "optimizer": {"scale": "choice", "values": ["adam", "momentum"]},
}
N = 10000


def one_axis(name, **spec):
    return SearchSpace.from_dict({name: spec})


def column(space, name, n=N, seed=0):
    return np.array([t[name] for t in space.sample(n, seed=seed)])


# --- sampling statistics ---------------------------------------------------

def test_log_scale_gives_each_decade_a_quarter():
    x = column(one_axis("learning_rate", scale="log", low=1e-4, high=1), "learning_rate")
    decades = np.floor(np.log10(x)).clip(-4, -1)  # x == 1 (measure zero) joins the top decade
    for d in (-4, -3, -2, -1):
        assert abs(np.mean(decades == d) - 0.25) < 0.02, d


def test_linear_scale_puts_most_samples_in_the_top_decade():
    x = column(one_axis("learning_rate", scale="linear", low=1e-4, high=1), "learning_rate")
    assert abs(np.mean(x >= 0.1) - 0.9) < 0.02
    assert np.mean(x < 1e-3) < 0.01


def test_one_minus_log_splits_one_minus_beta_decades_evenly():
    beta = column(one_axis("beta", scale="one_minus_log", low=0.9, high=0.999), "beta")
    gap = 1 - beta
    assert beta.min() >= 0.9 and beta.max() <= 0.999
    assert abs(np.mean((gap >= 0.001) & (gap < 0.01)) - 0.5) < 0.02
    assert abs(np.mean((gap >= 0.01) & (gap <= 0.1)) - 0.5) < 0.02


def test_int_scale_is_inclusive_and_uniform():
    x = column(one_axis("hidden_units_1", scale="int", low=3, high=7), "hidden_units_1")
    counts = Counter(x.tolist())
    assert set(counts) == {3, 4, 5, 6, 7}
    for v in counts.values():
        assert abs(v / N - 0.2) < 0.02


def test_choice_frequencies_are_uniform():
    space = one_axis("optimizer", scale="choice", values=["gd", "momentum", "rmsprop", "adam"])
    counts = Counter(column(space, "optimizer").tolist())
    assert set(counts) == {"gd", "momentum", "rmsprop", "adam"}
    for v in counts.values():
        assert abs(v / N - 0.25) < 0.02


def test_samples_have_python_types_and_stay_in_bounds():
    space = SearchSpace.from_dict({**LECTURE, "batch_norm": {"scale": "choice", "values": [True, False]},
                                   "keep_prob": {"scale": "linear", "low": 0.5, "high": 1}})
    trials = space.sample(2000, seed=3)
    assert len(trials) == 2000
    for t in trials:
        assert list(t) == list(space)
        assert type(t["learning_rate"]) is float and 1e-4 <= t["learning_rate"] <= 1
        assert type(t["beta1"]) is float and 0.9 <= t["beta1"] <= 0.999
        assert type(t["keep_prob"]) is float and 0.5 <= t["keep_prob"] <= 1
        assert type(t["hidden_units_1"]) is int and 10 <= t["hidden_units_1"] <= 50
        assert t["optimizer"] in ("adam", "momentum")
        assert type(t["batch_norm"]) is bool
    hidden = {t["hidden_units_1"] for t in trials}
    assert 10 in hidden and 50 in hidden


def test_fixed_value_when_low_equals_high():
    space = one_axis("learning_rate", scale="log", low=0.01, high=0.01)
    assert {t["learning_rate"] for t in space.sample(50, seed=0)} == {0.01}


def test_same_seed_same_samples_different_seed_different():
    space = SearchSpace.from_dict(LECTURE)
    assert space.sample(20, seed=7) == space.sample(20, seed=7)
    assert space.sample(20, seed=7) != space.sample(20, seed=8)
    a, b = column(space, "learning_rate", 20, 7), column(space, "learning_rate", 20, 8)
    assert not np.allclose(a, b)


def test_trial_k_does_not_depend_on_how_many_trials_are_drawn():
    space = SearchSpace.from_dict({**LECTURE, "keep_prob": {"scale": "linear", "low": 0.5, "high": 1}})
    eight = space.sample(8, seed=5)
    assert space.sample(4, seed=5) == eight[:4] and space.sample(1, seed=5) == eight[:1]
    assert len({t["learning_rate"] for t in eight}) == 8  # still eight different trials
    zoomed = space.zoom([dict(t, score=i) for i, t in enumerate(eight)], top_k=3)
    assert zoomed.sample(3, seed=6) == zoomed.sample(7, seed=6)[:3]


# --- JSON round trip -------------------------------------------------------

def test_json_round_trip_of_the_lecture_example(tmp_path):
    path = tmp_path / "params.json"
    path.write_text(json.dumps(LECTURE))
    space = SearchSpace.from_json(path)
    assert list(space) == list(LECTURE)
    assert space.to_dict() == LECTURE
    assert space["beta1"] == Param("beta1", "one_minus_log", 0.9, 0.999)
    again = tmp_path / "again.json"
    space.to_json(again)
    assert SearchSpace.from_json(again) == space
    assert json.loads(again.read_text()) == LECTURE


def test_round_trip_of_every_name():
    d = {"decay_rate": {"scale": "linear", "low": 0, "high": 2},
         "minibatch_size": {"scale": "choice", "values": [32, 64, 128]},
         "num_epochs": {"scale": "int", "low": 100, "high": 1500},
         "beta": {"scale": "one_minus_log", "low": 0, "high": 0.99},
         "beta2": {"scale": "one_minus_log", "low": 0.99, "high": 0.9999},
         "epsilon": {"scale": "log", "low": 1e-8, "high": 1e-6},
         "hidden_units_1": {"scale": "int", "low": 1, "high": 1},
         "batch_norm": {"scale": "choice", "values": [True, False]},
         "l2_lambda": {"scale": "linear", "low": 0, "high": 0.1},
         "keep_prob": {"scale": "linear", "low": 0.5, "high": 1}}
    assert SearchSpace.from_dict(d).to_dict() == d
    assert SearchSpace.from_dict(json.loads(json.dumps(d))) == SearchSpace.from_dict(d)


# --- grid ------------------------------------------------------------------

def test_grid_sizes_and_spacing():
    space = SearchSpace.from_dict(LECTURE)
    grid = space.grid(5)
    assert len(grid) == 5 * 5 * 5 * 2
    lr = sorted({g["learning_rate"] for g in grid})
    assert lr[0] == 1e-4 and lr[-1] == 1
    assert np.allclose(np.diff(np.log10(lr)), 1.0)  # log-spaced: one point per decade
    beta = sorted({g["beta1"] for g in grid})
    assert beta[0] == 0.9 and beta[-1] == 0.999
    assert np.allclose(np.diff(np.log10(1 - np.array(beta))), -0.5)
    hidden = sorted({g["hidden_units_1"] for g in grid})
    assert hidden == [10, 20, 30, 40, 50] and all(type(h) is int for h in hidden)
    assert {g["optimizer"] for g in grid} == {"adam", "momentum"}
    assert len({tuple(g.values()) for g in grid}) == len(grid)


def test_grid_deduplicates_rounded_ints_and_fixed_values():
    space = SearchSpace.from_dict({"hidden_units_1": {"scale": "int", "low": 1, "high": 3},
                                   "learning_rate": {"scale": "log", "low": 0.1, "high": 0.1}})
    grid = space.grid(10)
    assert [g["hidden_units_1"] for g in grid] == [1, 2, 3]
    assert {g["learning_rate"] for g in grid} == {0.1}


def test_grid_tries_few_distinct_values_per_axis_random_tries_many():
    space = SearchSpace.from_dict(LECTURE)
    grid, rand = space.grid(5), space.sample(len(space.grid(5)), seed=0)
    assert len({g["learning_rate"] for g in grid}) == 5
    assert len({t["learning_rate"] for t in rand}) == len(rand)


# --- zoom ------------------------------------------------------------------

def peaked_trials(space, n=200, seed=0):
    """Trials whose score peaks at learning_rate 1e-2 and favours adam."""
    trials = space.sample(n, seed=seed)
    for t in trials:
        t["score"] = -abs(math.log10(t["learning_rate"]) + 2) + (0.5 if t["optimizer"] == "adam" else 0)
    return trials


def width(p):
    t = {"log": np.log10, "one_minus_log": lambda b: np.log10(1 - b)}.get(p.scale, lambda x: x)
    return abs(t(p.high) - t(p.low))


def test_zoom_narrows_around_the_best():
    space = SearchSpace.from_dict(LECTURE)
    zoomed = space.zoom(peaked_trials(space), top_k=5)
    lr = zoomed["learning_rate"]
    assert lr.scale == "log" and lr.low <= 1e-2 <= lr.high
    assert width(lr) < 0.5 * width(space["learning_rate"])
    assert zoomed["optimizer"].values == ["adam"]
    for name, p in zoomed.items():
        orig = space[name]
        if p.scale != "choice":
            assert orig.low <= p.low <= p.high <= orig.high, name
            assert width(p) <= width(orig) + 1e-12, name
    # sampling the zoomed space stays near the peak
    x = column(zoomed, "learning_rate", 1000)
    assert np.all((x >= lr.low) & (x <= lr.high))


def test_zoom_contains_the_top_trials_and_respects_fraction():
    space = SearchSpace.from_dict(LECTURE)
    trials = peaked_trials(space, seed=1)
    best = sorted(trials, key=lambda t: t["score"], reverse=True)[:20]
    zoomed = space.zoom(trials, fraction=0.1)
    for t in best:
        for name, p in zoomed.items():
            if p.scale == "choice":
                assert t[name] in p.values
            else:
                assert p.low <= t[name] <= p.high, name


def test_zoom_narrows_beta_and_int_axes_on_their_scale():
    space = SearchSpace.from_dict(LECTURE)
    trials = space.sample(100, seed=2)
    for t in trials:  # best near beta1 = 0.99 (1 - beta = 1e-2) and 30 hidden units
        t["score"] = -abs(math.log10(1 - t["beta1"]) + 2) - abs(t["hidden_units_1"] - 30) / 40
    zoomed = space.zoom(trials, top_k=3)
    b, h = zoomed["beta1"], zoomed["hidden_units_1"]
    assert b.low <= 0.99 <= b.high and width(b) < width(space["beta1"])
    assert type(h.low) is int and type(h.high) is int
    assert 10 <= h.low <= 30 <= h.high <= 50 and h.high - h.low < 40


def test_zoom_ignores_failed_trials():
    space = SearchSpace.from_dict(LECTURE)
    trials = peaked_trials(space)
    failed = [dict(t, learning_rate=1e-4, score=None) for t in trials[:5]]
    failed += [dict(t, learning_rate=1.0, score=float("nan")) for t in trials[:5]]
    failed += [{k: v for k, v in trials[0].items() if k != "score"}]
    assert space.zoom(failed + trials, top_k=5) == space.zoom(trials, top_k=5)


def test_zoom_refuses_when_no_trial_scored():
    space = SearchSpace.from_dict(LECTURE)
    trials = [dict(t, score=None) for t in space.sample(5, seed=0)]
    trials[0]["score"] = float("nan")
    with pytest.raises(SignsError, match="no trial has a score"):
        space.zoom(trials)
    with pytest.raises(SignsError, match="no trial has a score"):
        space.zoom([])


@pytest.mark.parametrize("kwargs, needle", [
    ({"top_k": 0}, "top_k"), ({"fraction": 0}, "fraction"), ({"fraction": 1.5}, "fraction"),
    ({"margin": -1}, "margin"), ({"min_width": "x"}, "min_width")])
def test_zoom_refuses_bad_arguments(kwargs, needle):
    space = SearchSpace.from_dict(LECTURE)
    with pytest.raises(SignsError, match=needle):
        space.zoom(peaked_trials(space, n=10), **kwargs)


def test_zoom_refuses_malformed_trials():
    space = SearchSpace.from_dict(LECTURE)
    trials = peaked_trials(space, n=10)
    with pytest.raises(SignsError, match="score"):
        space.zoom([dict(trials[0], score="high")])
    with pytest.raises(SignsError, match="learning_rate"):
        space.zoom([{k: v for k, v in trials[0].items() if k != "learning_rate"}])
    with pytest.raises(SignsError, match="optimizer"):
        space.zoom([dict(trials[0], optimizer="sgd")])


# --- refusals --------------------------------------------------------------

@pytest.mark.parametrize("name, spec", [
    ("learning_rate", {"scale": "log", "low": 0, "high": 1}),
    ("learning_rate", {"scale": "log", "low": -1e-3, "high": 1}),
    ("learning_rate", {"scale": "linear", "low": 0.5, "high": 0.1}),
    ("optimizer", {"scale": "choice", "values": []}),
    ("optimizer", {"scale": "choice"}),
    ("learning_rate", {"scale": "cubic", "low": 1e-4, "high": 1}),
    ("learning_rate", {"low": 1e-4, "high": 1}),
    ("learning_rate", {"scale": "log", "low": 1e-4}),
    ("learning_rate", {"scale": "log", "high": 1}),
    ("learning_rate", {"scale": "log", "low": "1e-4", "high": 1}),
    ("learning_rate", {"scale": "linear", "low": True, "high": 1}),
    ("learning_rate", {"scale": "linear", "low": 0.1, "high": float("inf")}),
    ("hidden_units_1", {"scale": "int", "low": 10.5, "high": 50}),
    ("num_epochs", {"scale": "int", "low": 10, "high": "50"}),
    ("hidden_units_1", {"scale": "linear", "low": 10, "high": 50}),
    ("beta1", {"scale": "one_minus_log", "low": 0.9, "high": 1}),
    ("beta1", {"scale": "one_minus_log", "low": -0.1, "high": 0.9}),
    ("keep_prob", {"scale": "one_minus_log", "low": 0.5, "high": 1.0}),
    ("learning_rate", {"scale": "log", "low": 1e-4, "high": 1, "step": 2}),
    ("optimizer", {"scale": "choice", "values": ["adam"], "low": 0}),
    ("learning_rate", {"scale": "log", "low": 1e-4, "high": 1, "values": [1]}),
    ("learning_rate", {"scale": "linear", "low": 0, "high": 1}),
    ("epsilon", {"scale": "linear", "low": 0, "high": 1e-8}),
    ("minibatch_size", {"scale": "int", "low": 0, "high": 64}),
    ("minibatch_size", {"scale": "choice", "values": [32, 0.5]}),
    ("num_epochs", {"scale": "int", "low": 0, "high": 10}),
    ("hidden_units_3", {"scale": "int", "low": 0, "high": 10}),
    ("beta", {"scale": "linear", "low": 0.5, "high": 1.0}),
    ("beta2", {"scale": "choice", "values": [0.999, 1.0]}),
    ("keep_prob", {"scale": "linear", "low": 0, "high": 1}),
    ("keep_prob", {"scale": "linear", "low": 0.5, "high": 1.1}),
    ("l2_lambda", {"scale": "linear", "low": -0.1, "high": 1}),
    ("decay_rate", {"scale": "linear", "low": -1, "high": 1}),
    ("optimizer", {"scale": "choice", "values": ["adam", "sgd"]}),
    ("optimizer", {"scale": "linear", "low": 0, "high": 1}),
    ("batch_norm", {"scale": "choice", "values": [True, "yes"]}),
    ("learning_rate", [1e-4, 1]),
])
def test_refuses_bad_spec_naming_the_parameter(name, spec):
    with pytest.raises(SignsError, match=name) as err:
        SearchSpace.from_dict({name: spec})
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("name", ["l2_lambda", "decay_rate"])
def test_log_scale_refuses_zero_even_where_the_name_allows_it(name):
    with pytest.raises(SignsError, match=f"{name}: log scale needs low > 0"):
        SearchSpace.from_dict({name: {"scale": "log", "low": 0, "high": 0.1}})
    # 0 itself is a valid value of the name: the linear scale takes it as a bound...
    linear = SearchSpace.from_dict({name: {"scale": "linear", "low": 0, "high": 0.1}})
    assert linear.to_dict() == {name: {"scale": "linear", "low": 0, "high": 0.1}}
    assert linear.grid(2) == [{name: 0.0}, {name: 0.1}]
    assert all(0 <= t[name] <= 0.1 for t in linear.sample(100, seed=0))
    # ...and the log scale takes the name once low > 0: only the zero bound was refused.
    log = SearchSpace.from_dict({name: {"scale": "log", "low": 1e-3, "high": 0.1}})
    assert log.to_dict() == {name: {"scale": "log", "low": 1e-3, "high": 0.1}}


@pytest.mark.parametrize("name", ["dropout", "hidden_units_0", "hidden_units_01",
                                  "hidden_units_x", "Learning_rate"])
def test_refuses_unknown_hyperparameter(name):
    with pytest.raises(SignsError, match=name):
        SearchSpace.from_dict({name: {"scale": "linear", "low": 0.1, "high": 1}})


def test_a_layer_list_axis_chooses_whole_architectures():
    space = SearchSpace.from_dict({"conv_channels": {"scale": "choice", "values": [[], [8, 16]]},
                                   "hidden_units": {"scale": "choice", "values": [[25, 12], [64]]}})
    assert space["conv_channels"].values == [(), (8, 16)]
    assert space.to_dict()["conv_channels"] == {"scale": "choice", "values": [[], [8, 16]]}
    assert SearchSpace.from_dict(json.loads(json.dumps(space.to_dict()))).to_dict() == space.to_dict()
    trials = space.sample(40, seed=0)
    assert {t["conv_channels"] for t in trials} == {(), (8, 16)}
    assert {t["hidden_units"] for t in trials} == {(25, 12), (64,)}
    cfg = TrainConfig().replace(**config_changes(trials[0]))
    assert (cfg.conv_channels, cfg.hidden_units) == (trials[0]["conv_channels"], trials[0]["hidden_units"])


@pytest.mark.parametrize("name, spec, needle", [
    ("conv_channels", {"scale": "int", "low": 1, "high": 3}, "conv_channels: must use the choice scale"),
    ("hidden_units", {"scale": "choice", "values": [[]]}, "hidden_units: each choice value must be"),
    ("conv_channels", {"scale": "choice", "values": [[8, 0]]}, "conv_channels: each choice value"),
])
def test_a_layer_list_axis_refuses_other_scales_and_bad_lists(name, spec, needle):
    with pytest.raises(SignsError, match=f"^{needle}"):
        SearchSpace.from_dict({name: spec})


def test_hidden_units_and_its_items_are_not_sampled_together():
    with pytest.raises(SignsError, match="samples both hidden_units and hidden_units_1; expected"):
        config_changes({"hidden_units": (5,), "hidden_units_1": 4})


LAYER = {"scale": "int", "low": 1, "high": 9}


@pytest.mark.parametrize("names, needle", [
    (["hidden_units", "hidden_units_1"], "samples both hidden_units and hidden_units_1; expected"),
    (["hidden_units_2"], "samples hidden_units_2 without hidden_units_1; expected"),
    (["hidden_units_1", "hidden_units_2", "hidden_units_10"],
     "samples hidden_units_1, hidden_units_2, hidden_units_10 without hidden_units_3; expected"),
])
def test_a_space_whose_layers_no_trial_can_build_is_refused_before_training(names, needle):
    """Every trial of such a space would fail: the space itself is refused, in one line."""
    spec = {n: ({"scale": "choice", "values": [[5]]} if n == "hidden_units" else LAYER)
            for n in names}
    with pytest.raises(SignsError, match=f"^search space {needle}") as e:
        SearchSpace.from_dict(spec)
    assert "\n" not in str(e.value)


def test_accepts_layers_numbered_from_one():
    space = SearchSpace.from_dict({f"hidden_units_{k}": LAYER for k in (2, 1, 3)})
    assert len(space) == 3
    assert config_changes({"hidden_units_2": 5, "hidden_units_1": 7})["hidden_units"] == (7, 5)


def test_param_checks_on_direct_construction():
    with pytest.raises(SignsError, match="learning_rate"):
        Param("learning_rate", "log", 0, 1)
    with pytest.raises(SignsError, match="duplicated|twice"):
        SearchSpace([Param("beta", "linear", 0, 0.5), Param("beta", "linear", 0, 0.9)])


@pytest.mark.parametrize("d", [{}, [], "learning_rate"])
def test_refuses_empty_or_non_dict_space(d):
    with pytest.raises(SignsError, match="search space"):
        SearchSpace.from_dict(d)


def test_from_json_refuses_missing_unreadable_and_invalid_files(tmp_path):
    missing = tmp_path / "nope.json"
    with pytest.raises(SignsError, match="nope.json"):
        SearchSpace.from_json(missing)
    with pytest.raises(SignsError, match=str(tmp_path.name)):
        SearchSpace.from_json(tmp_path)  # a directory cannot be read as a file
    bad = tmp_path / "bad.json"
    bad.write_text('{"learning_rate": {"scale": "log", "low": 1e-4,')
    with pytest.raises(SignsError, match="bad.json.*not valid JSON"):
        SearchSpace.from_json(bad)
    binary = tmp_path / "binary.json"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(SignsError, match="binary.json"):
        SearchSpace.from_json(binary)


@pytest.mark.parametrize("n, seed, needle", [(0, 0, "n must"), (2.0, 0, "n must"), (3, -1, "seed"),
                                             (3, None, "seed"), (3, 1.5, "seed")])
def test_sample_refuses_bad_n_or_seed(n, seed, needle):
    with pytest.raises(SignsError, match=needle):
        SearchSpace.from_dict(LECTURE).sample(n, seed)


@pytest.mark.parametrize("k", [1, 0, 2.5, True])
def test_grid_refuses_bad_points(k):
    with pytest.raises(SignsError, match="points_per_axis"):
        SearchSpace.from_dict(LECTURE).grid(k)
