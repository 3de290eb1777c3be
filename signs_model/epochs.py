"""The epoch loop that ``train`` (one network) and population training (several in one graph) share.

Each epoch the caller's ``step(epoch)`` trains every network still going and
returns one cost each. The loop checks each cost (a NaN or infinite one ends
that network with ``Diverged``), records it and writes it to TensorBoard,
measures the accuracies on the evaluation cadence, asks each network's hook
whether to stop it (``Stopped``), and has the caller save checkpoints on the
checkpoint cadence, at a stop, at Ctrl-C and after the last epoch. The final
metrics, the summary writers and the end-of-run files are written here too.
"""
import contextlib
import math
import signal
import time

import tensorflow.compat.v1 as tf
from tqdm.auto import tqdm

from . import runs
from .errors import Diverged, Stopped


class Net:
    """One network's side of the loop: its config, run folder, hook, costs, metrics and ending.

    Args:
        costs: the costs of the epochs it has already done (a resumed run's).
        hook: ``on_epoch(epochs, accuracy)`` as ``train.train`` documents it, or None.
        share: its part of the loop's time (1/K when K networks train together).
    """

    def __init__(self, cfg, run_dir=None, hook=None, costs=(), share=1.0):
        self.cfg, self.run_dir, self.hook, self.share = cfg, run_dir, hook, share
        self.costs = list(costs)
        self.start = len(self.costs)  # epochs done before this loop: not timed by it
        self.metrics = {}  # this epoch's accuracies, then the final metrics
        self.seconds = 0.0
        self.writer = None
        self.ended = None  # Diverged or Stopped when it ends early


def going(nets):
    return [net for net in nets if net.ended is None]


def scalar(net, tag, value, epoch):
    if net.writer:
        net.writer.add_summary(tf.Summary(value=[tf.Summary.Value(tag=tag, simple_value=value)]),
                               epoch)


@contextlib.contextmanager
def summary_writers(nets, graph=None):
    """A TensorBoard writer for each net with a run folder, flushed and closed when the block ends."""
    for net in nets:
        net.writer = tf.summary.FileWriter(str(net.run_dir), graph) if net.run_dir else None
    try:
        yield
    finally:
        for net in nets:
            if net.writer:
                try:
                    net.writer.close()  # also after a divergence or Ctrl-C
                except Exception:  # a full disk must not hide the error that stopped training
                    pass


class StopFlag:
    """SIGINT sets a flag; the loop finishes the epoch, saves and stops. A second Ctrl-C is immediate."""

    def __init__(self):
        self.set = False

    def __enter__(self):
        try:
            self.previous = signal.signal(signal.SIGINT, self._handle)
        except ValueError:  # not the main thread: leave signals alone
            self.previous = None
        return self

    def _handle(self, signum, frame):
        self.set = True
        signal.signal(signal.SIGINT, self.previous)

    def __exit__(self, *exc):
        if self.previous is not None:
            signal.signal(signal.SIGINT, self.previous)


def check_cost(cfg, cost, epoch):
    """Raise Diverged if the cost of ``epoch`` is NaN or infinite, saying what to lower."""
    if not math.isfinite(cost):
        l2 = f"l2_lambda ({cfg.l2_lambda:g}) or " if cfg.l2_lambda > 0 else ""
        raise Diverged(f"cost became {cost} at epoch {epoch}; expected a finite cost: "
                       f"lower {l2}the learning rate ({cfg.learning_rate:g})")


def final_metrics(net, engine, **extra):
    """The end-of-run metrics of ``net`` (kept in ``net.metrics``, beside its last accuracies)."""
    trained = len(net.costs) - net.start
    net.metrics.update({"final_cost": net.costs[-1] if net.costs else None, "epochs": len(net.costs),
                        "seconds": round(net.seconds, 3), "engine": engine,
                        "epochs_per_second": round(trained / net.seconds, 3) if trained else None,
                        **extra})
    return net.metrics


def run(nets, step, measure, save, planned, eval_sets, engine, eval_every=50, checkpoint_every=0,
        progress=True, desc="train", print_every=None, interrupt=None, **extra):
    """Train the nets that are going from the epoch they are at to ``planned``.

    Args:
        nets: Nets that share the epochs (all at the same epoch); those going when the loop
            starts are the ones ``step`` and ``measure`` answer for, in this order.
        step: ``step(epoch)`` trains one epoch, returns one cost per net.
        measure: ``measure(name)`` returns one accuracy per net, on ``eval_sets[name]`` now.
        save: ``save(epochs, nets)`` writes those nets' costs and checkpoints.
        planned: the epochs every net has when the loop ends.
        engine, extra: recorded in each net's final metrics.
        print_every: print "Cost after epoch N" every so many epochs (one net only).
        interrupt: a ``StopFlag``: once set, the nets going are saved and KeyboardInterrupt raised.
    Returns:
        the nets a hook stopped this epoch (each ended with ``Stopped``), or [] once the nets
        have ``planned`` epochs or all diverged.
    """
    live = going(nets)
    first = len(live[0].costs) if live else planned
    bar = tqdm(range(first, planned), desc=desc, unit="epoch", disable=not progress, leave=False,
               dynamic_ncols=True)
    try:
        for epoch in bar:
            t0 = time.perf_counter()
            for net, cost in zip(live, step(epoch)):
                if net.ended is not None:  # diverged earlier: its rows of a population stay NaN
                    continue
                net.metrics.clear()  # what a stop reports was measured now
                try:
                    check_cost(net.cfg, cost, epoch)
                except Diverged as e:
                    net.ended = e  # the others train on
                    continue
                net.costs.append(cost)
                scalar(net, "cost", cost, epoch)
            if len(live) == 1 and live[0].ended is None:
                bar.set_postfix(cost=f"{live[0].costs[-1]:.6f}")
                if print_every and epoch % print_every == 0:
                    tqdm.write("Cost after epoch %i: %f" % (epoch, live[0].costs[-1]))
            last = epoch == planned - 1
            accuracies = _measurer(live, measure, epoch)
            if eval_sets and (last or _due(epoch, eval_every)):
                for name in eval_sets:
                    accuracies(name)
            stops = []
            for i, net in enumerate(live):
                if net.ended is None and net.hook and not last:
                    reason = net.hook(epoch + 1, lambda name, i=i: float(accuracies(name)[i]))
                    if reason:
                        stops.append((net, f"stopped after {epoch + 1} epochs: {reason}"))
            for net in live:
                net.seconds += (time.perf_counter() - t0) * net.share
            interrupted = interrupt is not None and interrupt.set and not last
            if last or interrupted or _due(epoch, checkpoint_every):
                save(epoch + 1, going(live))
            elif stops:
                save(epoch + 1, [net for net, _ in stops])
            for net, reason in stops:
                net.ended = Stopped(reason, final_metrics(net, engine, **extra))
                stop_run(net)
            if interrupted:
                raise KeyboardInterrupt(f"stopped after epoch {epoch}" + "".join(
                    f"; checkpoint saved in {net.run_dir}" for net in live[:1] if net.run_dir))
            if stops or not going(nets):
                return [net for net, _ in stops]
    finally:
        bar.close()
    if eval_sets and first >= planned:  # no epoch left to train (a finished run resumed): measure now
        accuracies = _measurer(going(nets), measure, max(planned - 1, 0))
        for name in eval_sets:
            accuracies(name)
    for net in going(nets):
        final_metrics(net, engine, **extra)
    return []


def _due(epoch, every):
    return bool(every) and (epoch + 1) % every == 0


def _measurer(live, measure, epoch):
    """``accuracies(name)``: each live net's accuracy on ``name``, measured once this epoch,
    recorded in its metrics and written to TensorBoard."""
    measured = {}

    def accuracies(name):
        if name not in measured:
            measured[name] = measure(name)
            for net, value in zip(live, measured[name]):
                if net.ended is None:
                    net.metrics[f"{name}_accuracy"] = float(value)
                    scalar(net, f"accuracy/{name}", float(value), epoch)
        return measured[name]
    return accuracies


def stop_run(net):
    """Write stopped.json in a stopped net's run folder (its checkpoint is saved)."""
    if net.run_dir is not None:
        try:
            runs.stop(net.run_dir, str(net.ended), net.ended.metrics)
        except OSError as error:
            raise runs.write_failure(net.run_dir, error, len(net.costs)) from None


def finish_run(net, result):
    """Write a finished net's end-of-run files (its checkpoint is saved)."""
    if net.run_dir is not None:
        try:
            runs.finish(net.run_dir, net.cfg, result)
        except OSError as error:
            raise runs.write_failure(net.run_dir, error, net.cfg.num_epochs) from None
