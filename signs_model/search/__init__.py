"""Hyperparameter search as the lectures teach it: random, on the right scale, coarse to fine.

* ``space``: the search space (axes on log, 1-beta-log, int or choice scales), sampling, zooming.
* ``loop``: ``tune``, the search itself: rounds, trials, finalists, the final test.
* ``study``, ``study_trials``: the Optuna study that holds the trials (shared by processes);
  ``database``: the SQLite file or PostgreSQL server it lives in, checked once.
* ``executors``: trials side by side (local processes or Ray); ``population``: many trials
  in one graph ("caviar"); ``pruning``: stopping hopeless trials (successive halving).
* ``results``: results.csv and the leaderboard; ``tensorboard``: the HParams dashboard;
  ``dashboard``: optuna-dashboard on the study.

Example:
    >>> from signs_model.search import default_space, sample_trials
    >>> sorted(sample_trials(default_space(), trials=1, seed=0)[0])
    ['beta1', 'hidden_units_1', 'hidden_units_2', 'learning_rate', 'minibatch_size']
"""
from .loop import BACKENDS, POPULATION, default_space, sample_trials, tune
from .space import Param, SearchSpace

__all__ = ["BACKENDS", "POPULATION", "Param", "SearchSpace", "default_space", "sample_trials",
           "tune"]
