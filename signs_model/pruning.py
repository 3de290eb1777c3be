"""Stopping the hopeless trials early: asynchronous successive halving (ASHA).

A trial is judged at a few *rungs*, the epoch counts ``min_epochs * eta**k``
short of its budget. At a rung it goes on only if its dev accuracy is among
the top ``1/eta`` of the accuracies trials have recorded at that rung so far,
its own included (ties go on); the first ``eta`` trials to reach a rung all go
on (with fewer than ``eta``, "the top 1/eta" would be nobody). Asynchronous: a
trial decides with what is recorded when it gets there and waits for no one,
so the trials that run first are judged more leniently than later ones (Li et
al., "A System for Massively Parallel Hyperparameter Tuning", MLSys 2020).

* ``Asha``: the rungs and the decision alone (pure: a trial's accuracy and the
  others' at that rung), for any trainer, e.g. one that trains many trials in
  one graph and asks after each epoch.
* ``RungStore``: a search's records, one JSON file in its folder changed
  under an exclusive ``fcntl`` lock, so trials in separate worker processes see
  each other's. Ray tasks share it on one machine only: on a cluster the
  folder would have to be on a filesystem whose locks hold across nodes.
* ``RungHook``: what a trial's ``train.train(on_epoch=...)`` calls.

Example:
    >>> asha = Asha(min_epochs=10, eta=3)
    >>> asha.rungs(300)
    [10, 30, 90, 270]
    >>> asha.decide(0.5, [0.9, 0.2])                  # among the first 3 at the rung: goes on
    True
    >>> asha.decide(0.5, [0.9, 0.8, 0.2, 0.1, 0.3])   # 6 there: only the best 2 go on
    False
"""
import fcntl
import json
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from .errors import check_int
from .files import write_json


@dataclass(frozen=True)
class Asha:
    """Successive halving's settings: the first rung and the reduction factor.

    Args:
        min_epochs: epochs every trial trains before its first judgement (int >= 1).
        eta: keep the top 1/eta at each rung; rungs are eta times apart (int >= 2).
    """
    min_epochs: int = 20
    eta: int = 3

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

    def cutoff(self, accuracies):
        """The accuracy a trial needs to go on from a rung where ``accuracies`` are recorded
        (its own included): the (n // eta)-th best of the n; None while n <= eta (all go on)."""
        if len(accuracies) <= self.eta:
            return None
        return sorted(accuracies, reverse=True)[len(accuracies) // self.eta - 1]

    def decide(self, accuracy, others):
        """Go on (True) or stop (False): ``accuracy`` is the trial's at a rung, ``others``
        what the other trials recorded there before it."""
        cutoff = self.cutoff([accuracy, *others])
        return cutoff is None or accuracy >= cutoff


@dataclass(frozen=True)
class RungStore:
    """The dev accuracies trials recorded at each rung, in one JSON file shared by processes.

    The file holds ``{"data": ..., "rungs": {"20": {"round0/trial003": 0.61, ...}}}``:
    ``data`` says what the trials were judged on. Every change reads it, changes it
    and writes it back whole (``files.write_json``) under an exclusive lock on a
    ``.lock`` file beside it.
    """
    path: Path

    @contextmanager
    def _change(self):
        with open(Path(self.path).with_suffix(".lock"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes, also on kill -9
            records = self.read()
            yield records
            write_json(self.path, records)

    def read(self):
        """The records as stored (``rungs`` keyed by the rung's epochs as a str); empty if none yet."""
        try:
            with open(self.path) as f:
                return json.load(f)
        except FileNotFoundError:
            return {"data": None, "rungs": {}}

    def record(self, rung, trial, accuracy):
        """Record ``trial``'s accuracy at ``rung``; returns the other trials' accuracies there."""
        with self._change() as records:
            at_rung = records["rungs"].setdefault(str(rung), {})
            others = [v for k, v in at_rung.items() if k != trial]
            at_rung[trial] = accuracy
        return others

    def forget(self, trials, data):
        """Drop the records of ``trials`` (they train again from scratch), or all of them if
        they were judged on other ``data`` than this (a JSON-able description of it)."""
        with self._change() as records:
            if records["data"] != data:
                records.update(data=data, rungs={})
            for at_rung in records["rungs"].values():
                for trial in trials:
                    at_rung.pop(trial, None)


@dataclass(frozen=True)
class RungHook:
    """A trial's ``on_epoch`` for ``train.train``: at each rung, record its dev accuracy in
    the store and stop it if ``asha`` says so.

    Args:
        asha: Asha; store: RungStore of the search.
        trial: the trial's name in the records (its run folder within the search).
    """
    asha: Asha
    store: RungStore
    trial: str

    def __call__(self, epochs, accuracy):
        """``accuracy(name)``: the trial's current accuracy on eval set ``name``.
        Returns why it stops (a str), or None to go on."""
        if not self.asha.is_rung(epochs):
            return None
        mine = accuracy("dev")
        others = self.store.record(epochs, self.trial, mine)
        if self.asha.decide(mine, others):
            return None
        n = len(others) + 1
        return (f"not in the top {n // self.asha.eta} of the {n} trials at this rung "
                f"(needed dev accuracy {self.asha.cutoff([mine, *others]):.4f})")
