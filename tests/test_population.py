"""Population training: trials trained together give each the costs it gets alone.

One population of varied configs (optimizers, learning rates and decay, layer
sizes, batch norm, dropout, L2, graph seeds) and two that diverge is trained
once on a 135-example slice for 3 epochs; each config is also trained alone
with ``train.train`` (fast engine) and the two are compared.
"""
import json
import math

import numpy as np
import pytest

from conftest import balanced
from signs_model import errors, runs, train
from signs_model.search import loop, population
from signs_model.config import TrainConfig
from signs_model.errors import SignsError
from signs_model.atomic import read_csv
from signs_model.predict import Predictor

BASE = TrainConfig(num_epochs=3, minibatch_size=16)
CONFIGS = [
    BASE.replace(learning_rate=1e-3),
    BASE.replace(learning_rate=0.02, decay_rate=0.5, optimizer="momentum", hidden_units=(10, 7, 5)),
    BASE.replace(optimizer="rmsprop", batch_norm=True, tf_seed=5),
    BASE.replace(optimizer="gd", learning_rate=0.05, keep_prob=0.7, l2_lambda=0.3, tf_seed=2),
    BASE.replace(learning_rate=1e30, optimizer="gd"),  # the weights overflow: NaN
    BASE.replace(batch_norm=True, keep_prob=0.8, hidden_units=(13,), learning_rate=1e-3, beta1=0.8),
    BASE.replace(l2_lambda=1e38, optimizer="gd", hidden_units=(8, 6)),  # the L2 step overflows
]
DIVERGING = (4, 6)


@pytest.fixture(scope="module")
def trained(signs, tmp_path_factory):
    """CONFIGS trained as one population and one by one, each into a run folder."""
    X, Y = balanced(signs, 22)
    evals = {"train": (X, Y), "test": (signs.X_test, signs.Y_test)}
    root = tmp_path_factory.mktemp("population")
    pop_dirs = [root / f"population{k}" for k in range(len(CONFIGS))]
    together = population.train_population(CONFIGS, X, Y, evals, pop_dirs, progress=False)
    alone = []
    for k, cfg in enumerate(CONFIGS):
        try:
            alone.append(train.train(cfg, X, Y, evals, root / f"alone{k}", progress=False))
        except errors.Diverged as e:
            alone.append(e)
    return together, alone, pop_dirs, [root / f"alone{k}" for k in range(len(CONFIGS))]


def test_each_trial_gets_the_costs_it_gets_alone(trained):
    together, alone, _, _ = trained
    for k, (a, b) in enumerate(zip(together, alone)):
        if k in DIVERGING:
            continue
        assert len(a["costs"]) == 3 and all(math.isfinite(c) for c in a["costs"])
        assert np.abs(np.subtract(a["costs"], b["costs"])).max() <= 1e-5, CONFIGS[k]
        assert a["metrics"]["train_accuracy"] == pytest.approx(b["metrics"]["train_accuracy"], abs=1e-6)
        assert sorted(a["parameters"]) == sorted(b["parameters"])
        assert a["metrics"]["engine"] == "population" and a["metrics"]["population"] == len(CONFIGS)


def test_a_diverging_trial_is_dropped_with_the_message_train_gives(trained):
    together, alone, pop_dirs, _ = trained
    for k in DIVERGING:
        assert isinstance(together[k], errors.Diverged) and isinstance(alone[k], errors.Diverged)
        assert str(together[k]) == str(alone[k])
        assert not (pop_dirs[k] / "metrics.json").exists()
    assert str(together[6]).startswith("cost became nan at epoch 0; expected a finite cost: "
                                       "lower l2_lambda (1e+38)")


def test_run_folders_hold_what_train_writes_and_predict(signs, trained):
    together, _, pop_dirs, alone_dirs = trained
    X = signs.X_test[:, :10]
    for k in (0, 2, 5):
        run, same = pop_dirs[k], alone_dirs[k]
        assert sorted(p.name for p in run.iterdir() if not p.name.startswith("events")) == \
            sorted(p.name for p in same.iterdir() if not p.name.startswith("events"))
        assert list(run.glob("events.out.tfevents.*"))
        params = json.loads((run / "params.json").read_text())
        assert params["engine"] == "population"
        assert runs.load_config(run) == CONFIGS[k]
        assert [float(r["cost"]) for r in read_csv(run / "costs.csv")] == together[k]["costs"]
        assert json.loads((run / "metrics.json").read_text())["test_accuracy"] == \
            together[k]["metrics"]["test_accuracy"]
        p = Predictor(run, device="cpu").probabilities_of(X)
        q = Predictor(same, device="cpu").probabilities_of(X)
        # The weights agree to float32 round-off of training, not bit for bit.
        assert np.abs(p - q).max() <= 1e-4 and (p.argmax(0) == q.argmax(0)).all()


def test_a_population_trials_checkpoint_resumes_with_train(signs, trained):
    X, Y = balanced(signs, 22)
    _, alone, pop_dirs, _ = trained
    for k in (1, 3):  # momentum, and gd with dropout and L2: their slots and names
        resumed = train.train(train.resume_config(pop_dirs[k], epochs=2), X, Y, run_dir=pop_dirs[k],
                              resume=True, progress=False)
        straight = train.train(CONFIGS[k].replace(num_epochs=5), X, Y, progress=False)
        assert np.abs(np.subtract(resumed["costs"], straight["costs"])).max() <= 1e-5


def test_populations_group_the_configs_that_share_minibatches():
    cfgs = [BASE, BASE.replace(minibatch_size=32), BASE.replace(learning_rate=0.1),
            BASE.replace(seed=4), BASE.replace(augment=True), BASE.replace(hidden_units=(5,)),
            BASE.replace(conv_channels=(4,)), BASE.replace(preprocess="standardize"),
            BASE.replace(num_epochs=4)]
    assert population.populations(cfgs, 16) == [[0, 2, 5], [1], [3], [4], [6], [7], [8]]
    assert population.populations(cfgs, 1) == [[k] for k in range(len(cfgs))]
    assert population.populations([BASE] * 10, 4) == [[0, 3, 6, 9], [1, 4, 7], [2, 5, 8]]


@pytest.mark.parametrize("cfgs", [[BASE, BASE.replace(minibatch_size=32)],
                                  [BASE.replace(augment=True)], []])
def test_configs_that_do_not_share_minibatches_are_refused(signs, cfgs):
    X, Y = balanced(signs, 22)
    with pytest.raises(SignsError, match="^cfgs must be one or more TrainConfigs that share") as err:
        population.train_population(cfgs, X, Y, progress=False)
    assert err.value.argument == "cfgs"


def test_tune_gives_the_same_rows_with_populations_as_one_by_one(signs, tmp_path):
    X, Y = signs.X_train[:, ::6], signs.Y_train[:, ::6]
    space = {**loop.DEFAULT_SPACE, "minibatch_size": {"scale": "choice", "values": [16, 32]}}
    rows = {k: loop.tune(space, X, Y, tmp_path / f"population{k}", trials=5, epochs=2, seed=1,
                           population=k)["rows"] for k in (1, 4)}
    sizes = [json.loads((tmp_path / "population4" / r["run_dir"] / "metrics.json").read_text())
             .get("population", 1) for r in rows[4]]
    assert max(sizes) > 1  # some trials did train together
    for a, b in zip(rows[1], rows[4]):
        assert {k: v for k, v in a.items() if k not in ("seconds", "final_cost")} == \
            {k: v for k, v in b.items() if k not in ("seconds", "final_cost")}
        assert a["final_cost"] == pytest.approx(b["final_cost"], abs=1e-5)


def test_a_trial_its_hook_stops_leaves_and_the_others_go_on_unchanged(signs, trained, tmp_path):
    X, Y = balanced(signs, 22)
    _, alone, _, alone_dirs = trained
    keep = [0, 1, 2, 3, 5]  # momentum, batch norm and dropout among them: their slots carry over
    cfgs = [CONFIGS[k] for k in keep]
    asked = []

    def stop_at(epochs_to_stop):
        def hook(epochs, accuracy):
            asked.append((epochs_to_stop, epochs))
            return f"train accuracy {accuracy('train'):.4f}" if epochs == epochs_to_stop else None
        return hook

    hooks = [None, stop_at(1), None, stop_at(2), stop_at(5)]
    dirs = [tmp_path / f"trial{k}" for k in keep]
    outcomes = population.train_population(cfgs, X, Y, {"train": (X, Y)}, dirs, progress=False,
                                           on_epoch=hooks)
    assert asked == [(1, 1), (2, 1), (5, 1), (2, 2), (5, 2)]  # none after the last epoch
    for i, k in enumerate(keep):
        expected = alone[k]["costs"]
        if i in (1, 3):
            stop = outcomes[i]
            epochs = 1 if i == 1 else 2
            assert isinstance(stop, errors.Stopped)
            assert str(stop) == f"stopped after {epochs} epochs: train accuracy " \
                                f"{stop.metrics['train_accuracy']:.4f}"
            assert runs.read_stopped(dirs[i]) == {"reason": str(stop), "metrics": stop.metrics}
            assert runs.latest_checkpoint(dirs[i])[1] == epochs
            assert not (dirs[i] / "metrics.json").exists()
            costs = [float(r["cost"]) for r in read_csv(dirs[i] / "costs.csv")]
            assert np.abs(np.subtract(costs, expected[:epochs])).max() <= 1e-5
            # Stopped, not finished: train.train resumes it to the costs it gets alone.
            resumed = train.train(train.resume_config(dirs[i]), X, Y, run_dir=dirs[i], resume=True,
                                  progress=False)
            assert np.abs(np.subtract(resumed["costs"], expected)).max() <= 1e-5
        else:  # trained on in the graphs without the stopped trials, from their state as it was
            assert np.abs(np.subtract(outcomes[i]["costs"], expected)).max() <= 1e-5, cfgs[i]
            assert runs.read_metrics(dirs[i])["epochs"] == 3
            assert outcomes[i]["metrics"]["population"] == len(keep)
    p = Predictor(dirs[2], device="cpu").probabilities_of(signs.X_test[:, :10])
    q = Predictor(alone_dirs[2], device="cpu").probabilities_of(signs.X_test[:, :10])
    assert np.abs(p - q).max() <= 1e-4
