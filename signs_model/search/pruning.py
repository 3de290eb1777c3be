"""Stopping the hopeless trials early: asynchronous successive halving (ASHA), as Optuna keeps it.

A trial is judged at a few *rungs*, the epoch counts ``min_epochs * eta**k``
short of its budget. At a rung it goes on only if its dev accuracy is among
the top ``1/eta`` of the accuracies that trials recorded at that rung so far,
its own included (Li et al., "A System for Massively Parallel Hyperparameter
Tuning", MLSys 2020). The records and the decision are Optuna's
``SuccessiveHalvingPruner`` on the search's study, so every process and
machine of a search judges against everything any of them recorded. One
difference from the paper: while fewer than ``eta`` trials have reached a
rung, Optuna lets a trial go on only if it is the best there so far.

* ``Asha``: the settings, the rungs, and the Optuna pruner they make.
* ``Reporter``: what a trial's ``train.train(on_epoch=...)`` calls: it reports
  the dev accuracy to the study every ``REPORT_EVERY`` epochs and at each rung,
  and at a rung asks the pruner whether to stop. It is sent to worker
  processes and opens the study there once per process.

Example:
    >>> asha = Asha(min_epochs=10, eta=3)
    >>> asha.rungs(300)
    [10, 30, 90, 270]
    >>> asha.rungs(10)
    []
"""
from dataclasses import dataclass

from ..errors import check_int
from ..settings import DEFAULTS

REPORT_EVERY = 5  # epochs between the dev accuracies a trial reports (its curve in the dashboard)
_OPEN = {}  # (storage URL, study name, Asha) -> study, opened once per worker process


@dataclass(frozen=True)
class Asha:
    """Successive halving's settings: the first rung and the reduction factor.

    Args:
        min_epochs: epochs every trial trains before its first judgement (int >= 1).
        eta: keep the top 1/eta at each rung; rungs are eta times apart (int >= 2).
    """
    min_epochs: int = DEFAULTS["prune_min_epochs"]
    eta: int = DEFAULTS["prune_eta"]

    def __post_init__(self):
        check_int("min_epochs", self.min_epochs)
        check_int("eta", self.eta, 2)

    def rungs(self, num_epochs):
        """The rungs a trial of ``num_epochs`` epochs passes (its last epoch is none: it ends there)."""
        rungs, r = [], self.min_epochs
        while r < num_epochs:
            rungs.append(r)
            r *= self.eta
        return rungs

    def is_rung(self, epochs):
        """True if a trial is judged after ``epochs`` epochs (given it trains on past them)."""
        return epochs in self.rungs(epochs + 1)

    def pruner(self):
        """Optuna's asynchronous successive halving with these settings."""
        import optuna
        return optuna.pruners.SuccessiveHalvingPruner(
            min_resource=self.min_epochs, reduction_factor=self.eta, min_early_stopping_rate=0)


@dataclass(frozen=True)
class Reporter:
    """A trial's ``on_epoch`` for ``train.train``: report to the study, stop where pruned.

    Args:
        storage_url, study_name: the search's study; trial_id: the trial's id in it.
        asha: Asha, or None to report without pruning.
    """
    storage_url: str
    study_name: str
    trial_id: int
    asha: Asha = None

    def _trial(self):
        import optuna
        from .database import open_storage

        key = (self.storage_url, self.study_name, self.asha)
        if key not in _OPEN:
            _OPEN[key] = optuna.load_study(
                study_name=self.study_name, storage=open_storage(self.storage_url, heartbeat=False),
                sampler=optuna.samplers.RandomSampler(),
                pruner=self.asha.pruner() if self.asha else optuna.pruners.NopPruner())
        return optuna.Trial(_OPEN[key], self.trial_id)

    def __call__(self, epochs, accuracy):
        """``accuracy(name)``: the trial's current accuracy on eval set ``name``.
        Returns why it stops (a str), or None to go on."""
        rung = self.asha is not None and self.asha.is_rung(epochs)
        if not rung and epochs % REPORT_EVERY:
            return None
        trial, mine = self._trial(), accuracy("dev")
        trial.report(mine, epochs)
        if rung and trial.should_prune():
            return (f"dev accuracy {mine:.4f} not in the top 1/{self.asha.eta} of the trials "
                    f"that reached this rung")
        return None
