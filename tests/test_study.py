"""The search's study (Optuna): storage errors, one search per study, the lecture's sampler in the
study, and successive halving decided on what every trial recorded. No training here."""
import sqlite3

import optuna
import pytest

from signs_model.search import database, loop, pruning, study
from signs_model.errors import SignsError
from signs_model.search.space import SearchSpace

SPACE = SearchSpace.from_dict({**loop.DEFAULT_SPACE,
                               "conv_channels": {"scale": "choice", "values": [[], [8, 16]]}})


def new_study(tmp_path, name="s", sampler="random", pruner=None):
    url = database.default_storage(tmp_path)
    store = database.open_storage(url)
    return url, store, study.open_study(store, name, sampler, 0, pruner)


@pytest.mark.parametrize("url, message", [
    ("nonsense", "not a database URL: 'nonsense'; expected sqlite:///FILE or postgresql://"),
    ("mysql://u:pw@db/x", "unsupported study storage 'mysql' in mysql://u:***@db/x; expected"),
    ("sqlite:///{tmp}/missing/study.db", "no folder {tmp}/missing for the study database"),
    ("sqlite:///{tmp}/text.db", "{tmp}/text.db is not a study database (file is not a database)"),
    ("sqlite:///{tmp}/other.db", "{tmp}/other.db is an SQLite database but not an Optuna study "
                                 "(its tables: photos)"),
    ("postgresql://signs:secret@127.0.0.1:1/signs", "cannot use the study storage "
     "postgresql://signs:***@127.0.0.1:1/signs: connection failed"),
])
def test_bad_storage_gets_one_line_naming_it(tmp_path, url, message):
    (tmp_path / "text.db").write_text("not a database, a note\n" * 100)
    with sqlite3.connect(tmp_path / "other.db") as db:
        db.execute("CREATE TABLE photos (name TEXT)")
    with pytest.raises(SignsError, match="^" + message.format(tmp=tmp_path).replace("(", r"\(")
                       .replace(")", r"\)").replace("*", r"\*").replace("?", r"\?")) as e:
        database.open_storage(url.format(tmp=tmp_path))
    assert "\n" not in str(e.value) and "secret" not in str(e.value) and e.value.argument == "storage"


def test_a_study_holds_one_search_and_refuses_another(tmp_path):
    url, _, records = new_study(tmp_path)
    plan = {"space": SPACE.to_dict(), "split": {"seed": 0, "m_dev": 216}, "sampler": "random"}
    study.check_plan(records, url, plan)
    study.check_plan(records, url, plan)  # the same search: welcome
    with pytest.raises(SignsError, match=r"holds a search with another dev split \(.*'m_dev': 216"):
        study.check_plan(records, url, {**plan, "split": {"seed": 1, "m_dev": 216}})
    with pytest.raises(SignsError, match="holds a search with another search space"):
        study.check_plan(records, url, {**plan, "space": loop.DEFAULT_SPACE})


def test_trial_k_is_the_lectures_draw_recorded_in_the_users_terms(tmp_path):
    url, store, records = new_study(tmp_path)
    study.plan_round(records, url, 0, SPACE, 6, 3, "random")
    study.plan_round(records, url, 0, SPACE, 6, 3, "random")  # a second process: nothing added
    study.plan_round(records, url, 0, SPACE, 8, 3, "random")  # more trials: only the new ones
    waiting = records.get_trials(states=(optuna.trial.TrialState.WAITING,))
    assert sorted(t.user_attrs["index"] for t in waiting) == list(range(8))
    drawn = SPACE.sample(8, seed=3)
    got = study.claim(records, store, [t._trial_id for t in waiting])
    assert len(got) == 8 and study.claim(records, store, [t._trial_id for t in waiting]) == []
    for trial in got:
        k = records.get_trials()[trial.number].user_attrs["index"]
        assert study.suggest(trial, SPACE) == drawn[k]
    for t in records.get_trials():
        k = t.user_attrs["index"]
        assert t.params["beta1"] == drawn[k]["beta1"] and 0.8 <= t.params["beta1"] < 1
        assert t.params["conv_channels"] == ("none" if drawn[k]["conv_channels"] == () else "8-16")


def test_tpe_samples_when_a_trial_is_claimed(tmp_path):
    url, store, records = new_study(tmp_path, sampler="tpe")
    study.plan_round(records, url, 0, SPACE, 3, 0, "tpe")
    waiting = records.get_trials(states=(optuna.trial.TrialState.WAITING,))
    assert [t.params for t in waiting] == [{}, {}, {}]
    values = study.suggest(study.claim(records, store, [waiting[0]._trial_id])[0], SPACE)
    assert set(values) == set(SPACE) and 1e-5 <= values["learning_rate"] <= 1e-2
    assert values["conv_channels"] in ((), (8, 16))


# Dev accuracy after 2, 4 and 8 epochs; the trials reach each rung in this order, one at a time.
CURVES = {"A": [0.30, 0.50, 0.70], "B": [0.20, 0.40, 0.60], "C": [0.10, 0.90, 0.90],
          "D": [0.40, 0.45, 0.80], "E": [0.25, 0.60, 0.65], "F": [0.35, 0.55, 0.50],
          "G": [0.30, 0.40, 0.90]}
# By hand, Optuna's rule with eta = 2: of the n values at a rung (its own included) a trial
# goes on if it is at least the (n // 2)-th best, or the best while n < 2.
# rung 2:  A alone; B .20 < .30 (best of 2); C .10 (best of 3); D .40 >= .30 (2nd of 4);
#          E .25 < .30 (2nd of 5); F .35 >= .30 (3rd of 6); G .30 >= .30 (3rd of 7: a tie).
# rung 4:  A alone; D .45 < .50 (best of 2); F .55 (best of 3); G .40 < .50 (2nd of 4).
# rung 8:  A alone; F .50 < .70 (best of 2).
STOPPED_AT = {"A": None, "B": 2, "C": 2, "D": 4, "E": 2, "F": 8, "G": 4}


def test_successive_halving_on_hand_made_curves(tmp_path):
    asha = pruning.Asha(min_epochs=2, eta=2)
    url, store, records = new_study(tmp_path, pruner=asha.pruner())
    study.plan_round(records, url, 0, SPACE, len(CURVES), 0, "random")
    stopped = {}
    for t, (name, curve) in zip(records.get_trials(), CURVES.items()):
        claimed = study.claim(records, store, [t._trial_id])[0]
        reporter = pruning.Reporter(url, records.study_name, claimed._trial_id, asha)
        stopped[name] = None
        for epochs in range(1, 16):  # 16 epochs: rungs after 2, 4 and 8
            value = curve[max(i for i, rung in enumerate([0, 2, 4, 8]) if rung <= epochs) - 1] \
                if epochs >= 2 else 0.0
            reason = reporter(epochs, lambda name: value)
            if reason:
                assert reason == f"dev accuracy {value:.4f} not in the top 1/2 of the trials " \
                                 f"that reached this rung"
                stopped[name] = epochs
                break
    assert stopped == STOPPED_AT
    # What each trial reported is in the study: every 5 epochs and at each rung it reached.
    reported = [sorted(t.intermediate_values) for t in records.get_trials()]
    assert reported[0] == [2, 4, 5, 8, 10, 15] and reported[1] == [2]


def test_pruning_that_could_never_prune_is_refused():
    with pytest.raises(SignsError, match="judges trials first after 20 epochs, but they train 10"):
        loop.check_settings(loop.default_space(), 4, 1, "local", 10, 0, 0.2, 0,
                              prune=pruning.Asha(20, 3))


def test_tpe_with_zoom_rounds_is_refused():
    with pytest.raises(SignsError, match="zoom rounds are the lecture's coarse-to-fine step"):
        loop.check_settings(loop.default_space(), 4, 1, "local", 10, 1, 0.2, 0, sampler="tpe")
