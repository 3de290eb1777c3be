"""The hyperparameter registry is the one home of each hyperparameter: TrainConfig, the search
space and the CLI flags are derived from it, and agree with it entry by entry."""
import pytest

from signs_model.cli import build_parser
from signs_model.cli.args import flag_of
from signs_model.config import HYPERPARAMETERS, MAX_SEED, TrainConfig
from signs_model.errors import SignsError
from signs_model.search.space import Param, SearchSpace


def test_train_config_has_one_field_per_hyperparameter_with_its_default():
    cfg = TrainConfig()
    assert list(cfg.to_dict()) == list(HYPERPARAMETERS)
    for name, h in HYPERPARAMETERS.items():
        assert getattr(cfg, name) == h.default, name


EXAMPLE = {float: ("0.5", 0.5), int: ("7", 7), tuple: ("9,4", (9, 4))}


def test_every_hyperparameter_is_a_train_flag_with_its_help(capsys):
    with pytest.raises(SystemExit):
        build_parser().parse_args(["train", "--help"])
    text = " ".join(capsys.readouterr().out.split())  # argparse wraps the help
    untouched = build_parser().parse_args(["train"])
    for name, h in HYPERPARAMETERS.items():
        assert h.option in text and " ".join(h.help.split()) in text, name
        assert getattr(untouched, name) is None  # left out: keep the config's or run's value
        choice = h.values[-1] if h.type is str else None  # not the default
        given = [h.option] if h.type is bool else [h.option, choice or EXAMPLE[h.type][0]]
        expected = True if h.type is bool else choice or EXAMPLE[h.type][1]
        assert getattr(build_parser().parse_args(["train", *given]), name) == expected


@pytest.mark.parametrize("name", [n for n, h in HYPERPARAMETERS.items() if h.type is tuple])
def test_a_layer_list_flag_takes_the_word_its_help_shows_for_empty(name, capsys, run_cli):
    """--conv-channels none: the help's "(default none)" parses, and means no layers."""
    h = HYPERPARAMETERS[name]
    with pytest.raises(SystemExit):
        build_parser().parse_args(["train", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    if h.default == ():
        assert f"{h.help} (default none)" in " ".join(help_text.split())
    for word in ("none", "None", ""):
        assert getattr(build_parser().parse_args(["train", h.option, word]), name) == ()
    # a list that cannot be empty is refused by the config, in one line naming the flag
    epochs = ["--epochs", "0"] if h.default == () else []  # refused before any training
    code, out, err = run_cli("train", h.option, "none", *epochs)
    assert code == 2 and out == "" and err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith(f"signs: error: argument {h.option}: " if h.default != ()
                          else "signs: error: argument --epochs: ")


@pytest.mark.parametrize("name", [n for n, h in HYPERPARAMETERS.items() if h.type is not tuple])
def test_every_hyperparameter_is_a_search_axis_checked_against_the_registry(name):
    h = HYPERPARAMETERS[name]
    if h.type in (bool, str):
        good = [h.default]
        bad = 1.5 if h.type is str else 1
        space = SearchSpace([Param(name, "choice", values=good)])
        assert space.sample(1, seed=0)[0][name] == h.default
        with pytest.raises(SignsError, match=name):
            Param(name, "choice", values=[bad])
        return
    low, high = h.values.low, h.values.high
    inside = h.default
    scale = "int" if h.type is int else "linear"
    Param(name, scale, inside, inside)  # the default is a valid bound
    outside = low - 1 if h.values.ends[0] == "[" else low
    with pytest.raises(SignsError, match=name):
        Param(name, scale, outside, inside)
    if high != float("inf"):
        beyond = high + max(1, high) if h.values.ends[1] == "]" else high  # FLOAT32_MAX + 1 rounds back
        with pytest.raises(SignsError, match=name):
            Param(name, scale, inside, beyond)


@pytest.mark.parametrize("name, value", [("learning_rate", 0), ("keep_prob", 1.5),
                                         ("optimizer", "sgd"), ("batch_norm", "yes"),
                                         ("hidden_units", (25, 0)), ("num_epochs", 2.5),
                                         ("tf_seed", -1), ("erase", 1.5), ("hue", 181),
                                         ("hue", -1), ("flip_tta", "yes"),
                                         ("label_smoothing", 1.0), ("conv_batch_norm", 1)])
def test_train_config_refuses_what_the_registry_refuses(name, value):
    with pytest.raises(SignsError, match=f"{name} must be") as e:
        TrainConfig(**{name: value})
    assert e.value.argument == name
    with pytest.raises(SignsError):
        HYPERPARAMETERS[name].check(value)


def test_seed_range_depends_on_the_epochs():
    TrainConfig(seed=MAX_SEED - 10, num_epochs=10)  # the last epoch shuffles with MAX_SEED
    with pytest.raises(SignsError, match=r"seed must be an int in \[0, 4294967284\]"):
        TrainConfig(seed=MAX_SEED - 10, num_epochs=11)


def test_cli_names_the_flag_of_the_argument_at_fault(run_cli, tmp_path):
    assert flag_of("num_epochs") == "--epochs" and flag_of("data_dir") == "--data-dir"
    code, _, err = run_cli("train", "--epochs", "0", "--out", tmp_path / "run")
    assert code == 2
    assert err.strip() == ("signs: error: argument --epochs: num_epochs must be an int in "
                           "[1, inf), got 0")


@pytest.mark.parametrize("flag, value, expected", [
    ("--erase", "2", "erase must be a number in [0, 1], got 2.0"),
    ("--hue", "-5", "hue must be a number in [0, 180], got -5.0")])
def test_cli_refuses_nonsense_augmentation_in_one_line(run_cli, tmp_path, flag, value, expected):
    code, out, err = run_cli("train", flag, value, "--epochs", "1", "--out", tmp_path / "run")
    assert code == 2 and out == "" and err.count("\n") == 1 and "Traceback" not in err
    assert err.strip() == f"signs: error: argument {flag}: {expected}"


def test_a_true_false_flag_switches_both_ways_over_a_preset():
    from signs_model.cli.args import hparam_changes
    from signs_model.config import preset

    on = build_parser().parse_args(["train", "--preset", "photos"])
    off = build_parser().parse_args(["train", "--preset", "photos", "--no-flip-tta"])
    assert preset("photos")["flip_tta"] is True and "flip_tta" not in hparam_changes(on)
    assert TrainConfig(**{**preset("photos"), **hparam_changes(off)}).flip_tta is False
    assert hparam_changes(build_parser().parse_args(["train", "--batch-norm"]))["batch_norm"] is True


def test_flip_test_time_augmentation_trains_outside_populations():
    from signs_model.search.population import populations

    assert populations([TrainConfig(), TrainConfig(flip_tta=True), TrainConfig()], 8) == [[0, 2], [1]]
