"""TensorBoard's HParams dashboard: the experiment and the trials' sessions read back from the
events files, as TensorBoard's hparams plugin would parse them."""
from pathlib import Path

import pytest
import tensorflow.compat.v1 as tf
from tensorboard.plugins.hparams import api_pb2, plugin_data_pb2

from signs_model.search import loop, tensorboard
from signs_model.atomic import read_csv
from signs_model.search.space import SearchSpace

SPACE = SearchSpace.from_dict({
    "learning_rate": {"scale": "log", "low": 1e-5, "high": 1e-2},
    "hidden_units_1": {"scale": "int", "low": 10, "high": 50},
    "minibatch_size": {"scale": "choice", "values": [16, 32]},
    "optimizer": {"scale": "choice", "values": ["adam", "momentum"]},
})


def read_events(folder):
    """The one events file directly in ``folder``: its hparams plugin data by kind
    (experiment, session_start_info, session_end_info) and its scalars, tag -> (step, value)."""
    (path,) = Path(folder).glob("events.out.tfevents.*")
    found = {"scalars": {}}
    for event in tf.train.summary_iterator(str(path)):
        for value in event.summary.value:
            if value.metadata.plugin_data.plugin_name == "hparams":
                data = plugin_data_pb2.HParamsPluginData.FromString(value.metadata.plugin_data.content)
                found[data.WhichOneof("data")] = getattr(data, data.WhichOneof("data"))
            else:
                found["scalars"][value.tag] = (event.step, value.simple_value)
    return found


def values(session_start):
    """A session's hyperparameters as Python values (numbers as float)."""
    return {name: getattr(v, v.WhichOneof("kind")) for name, v in session_start.hparams.items()}


def test_the_experiment_holds_the_axes_with_their_domains_and_the_metrics(tmp_path):
    tensorboard.write_experiment(tmp_path, SPACE)
    experiment = read_events(tmp_path)["experiment"]
    infos = {h.name: h for h in experiment.hparam_infos}
    assert list(infos) == list(SPACE)
    lr = infos["learning_rate"]
    assert lr.type == api_pb2.DATA_TYPE_FLOAT64 and lr.description == "log scale"
    assert (lr.domain_interval.min_value, lr.domain_interval.max_value) == (1e-5, 1e-2)
    assert (infos["hidden_units_1"].domain_interval.min_value,
            infos["hidden_units_1"].domain_interval.max_value) == (10, 50)
    assert [v.number_value for v in infos["minibatch_size"].domain_discrete.values] == [16, 32]
    assert infos["optimizer"].type == api_pb2.DATA_TYPE_STRING
    assert [v.string_value for v in infos["optimizer"].domain_discrete.values] == ["adam", "momentum"]
    assert [(m.name.group, m.name.tag) for m in experiment.metric_infos] == \
        [("", "dev_accuracy"), ("", "epochs")]


@pytest.mark.parametrize("status, metrics, ended", [
    ("ok", {"dev_accuracy": 0.75, "epochs": 300}, api_pb2.STATUS_SUCCESS),
    ("pruned", {"dev_accuracy": 0.25, "epochs": 20}, api_pb2.STATUS_SUCCESS),
    ("diverged", {}, api_pb2.STATUS_FAILURE),
])
def test_a_trial_session_holds_its_values_metrics_and_status(tmp_path, status, metrics, ended):
    params = {"learning_rate": 3e-4, "hidden_units_1": 42, "minibatch_size": 32, "optimizer": "adam"}
    tensorboard.write_trial(tmp_path, {**params, "optimizer": "momentum"}, "failed", {})
    tensorboard.write_trial(tmp_path, params, status, metrics)  # replaces the first
    found = read_events(tmp_path / "hparams")
    assert values(found["session_start_info"]) == params
    assert found["session_end_info"].status == ended
    assert found["scalars"] == {tag: (metrics["epochs"], pytest.approx(v)) for tag, v in metrics.items()}


def test_a_search_writes_the_experiment_and_one_session_per_trial(signs, tmp_path):
    X, Y = signs.X_train[:, ::6], signs.Y_train[:, ::6]
    space = SearchSpace.from_dict({**loop.DEFAULT_SPACE,
                                   "minibatch_size": {"scale": "choice", "values": [16, 32]}})
    loop.tune(space, X, Y, tmp_path, trials=2, workers=1, epochs=2)
    experiment = read_events(tmp_path)["experiment"]
    assert [h.name for h in experiment.hparam_infos] == list(space)
    rows = read_csv(tmp_path / "results.csv")
    assert [r["status"] for r in rows] == ["ok", "ok"]
    for row in rows:
        found = read_events(tmp_path / row["run_dir"] / "hparams")
        assert values(found["session_start_info"]) == pytest.approx(loop.row_params(
            {k: float(v) if k in space else v for k, v in row.items()}, space))
        assert found["scalars"]["dev_accuracy"] == (2, pytest.approx(float(row["dev_accuracy"])))
        assert found["session_end_info"].status == api_pb2.STATUS_SUCCESS


def test_a_layer_list_axis_shows_as_text(tmp_path):
    space = SearchSpace.from_dict({"conv_channels": {"scale": "choice", "values": [[], [8, 16]]}})
    tensorboard.write_experiment(tmp_path, space)
    (info,) = read_events(tmp_path)["experiment"].hparam_infos
    assert info.type == api_pb2.DATA_TYPE_STRING
    assert [v.string_value for v in info.domain_discrete.values] == ["none", "8-16"]
    tensorboard.write_trial(tmp_path, {"conv_channels": (8, 16)}, "ok", {"dev_accuracy": 0.5})
    assert values(read_events(tmp_path / "hparams")["session_start_info"]) == {"conv_channels": "8-16"}
