"""Search and batch settings have one home (settings.SETTINGS): library defaults, checks and flags."""
import inspect

import pytest

from signs_model import evaluate, predict
from signs_model.cli import build_parser
from signs_model.data import build_dataset
from signs_model.errors import SignsError
from signs_model.search import loop, pruning
from signs_model.settings import DEFAULTS, SETTINGS, check

# The command and the library function that take each setting.
USES = {
    "tune": (loop.tune, ["trials", "workers", "population", "zoom_rounds", "finalists",
                         "final_seeds", "dev_fraction", "seed", "prune_min_epochs", "prune_eta"]),
    "predict": (predict.Predictor.predict_files, ["batch_size"]),
    "evaluate": (evaluate.evaluate_photos, ["batch_size"]),
}
REQUIRED = {"tune": ["--out", "x"], "predict": ["--run", "r", "a.jpg"],
            "evaluate": ["--run", "r", "--photos", "p"]}


@pytest.mark.parametrize("command", sorted(USES))
def test_flags_and_library_defaults_are_the_registry_s(command, capsys):
    function, names = USES[command]
    args = build_parser().parse_args([command, *REQUIRED[command]])
    params = inspect.signature(function).parameters
    with pytest.raises(SystemExit):
        build_parser().parse_args([command, "--help"])
    shown = " ".join(capsys.readouterr().out.split())
    for name in names:
        assert getattr(args, name) == DEFAULTS[name], name
        assert f"(default {DEFAULTS[name]})" in shown
        if name in params:
            assert params[name].default == DEFAULTS[name], name
        else:  # pruning's settings are Asha's fields
            assert getattr(pruning.Asha(), name.removeprefix("prune_")) == DEFAULTS[name]


def test_build_takes_its_test_fraction_from_the_registry():
    assert inspect.signature(build_dataset).parameters["test_fraction"].default == \
        DEFAULTS["test_fraction"]


@pytest.mark.parametrize("name, bad", [("workers", 0), ("trials", True), ("zoom_rounds", -1),
                                       ("prune_eta", 1), ("dev_fraction", 1.0), ("seed", 0.5),
                                       ("batch_size", "8"), ("test_fraction", float("nan"))])
def test_nonsense_is_refused_naming_the_setting(name, bad):
    with pytest.raises(SignsError, match=f"^{name} must be ") as e:
        check(name, bad)
    assert e.value.argument == name


@pytest.mark.parametrize("flag, value, message", [
    ("--workers", "0", "argument --workers: workers must be an int >= 1, got 0"),
    ("--dev-fraction", "1.5", "argument --dev-fraction: dev_fraction must be a number in (0, 1), "
                              "got 1.5"),
    ("--prune-eta", "1", "argument --prune-eta: eta must be an int >= 2, got 1"),
])
def test_the_cli_refuses_a_bad_setting_in_one_line_before_any_data(flag, value, message, run_cli,
                                                                    tmp_path):
    args = ["tune", "--out", tmp_path / "s", "--data-dir", tmp_path / "none", flag, value]
    if flag == "--prune-eta":
        args.append("--prune")
    code, out, err = run_cli(*args)
    assert code == 2 and err == f"signs: error: {message}\n"
    assert not (tmp_path / "s").exists()


def test_every_setting_has_help_and_a_valid_default():
    for s in SETTINGS.values():
        assert s.help and check(s.name, s.default) == s.default
