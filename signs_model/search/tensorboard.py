"""A search in TensorBoard's HParams dashboard: its trials as a table and in parallel coordinates.

``tensorboard --logdir OUT`` on a search folder finds

* the experiment, at the search root (``write_experiment``): the search
  space's axes with their ranges or values, and the metrics of ``METRICS``;
* one session per trial, in ``<run folder>/hparams/`` (``write_trial``): the
  values sampled for it, how it ended, and as scalars its dev accuracy (a
  pruned trial's where it stopped) and the epochs it trained.

A trial's training curves stay in its run folder's own events file. Each call
replaces the events file an earlier call wrote in that folder (a rerun of the
search writes them again); the file is written aside, then moved in whole.

Example:
    >>> import tempfile
    >>> from signs_model.search import default_space
    >>> out = tempfile.mkdtemp()
    >>> write_experiment(out, default_space()).name.startswith("events.out.tfevents.")
    True
"""
import os
import tempfile
from pathlib import Path

import tensorflow.compat.v1 as tf
from tensorboard.plugins.hparams import api_pb2
from tensorboard.plugins.hparams import summary as hp

FOLDER = "hparams"  # a trial's session, inside its run folder
METRICS = {"dev_accuracy": "dev accuracy", "epochs": "epochs trained"}  # scalar tag -> display name
_ENDED = ("ok", "pruned")  # the statuses of a session that ended well; the others failed


def write_experiment(out_dir, space):
    """The experiment at the search root: every axis of ``space`` (a SearchSpace) and METRICS.

    Returns:
        the Path of the events file written.
    """
    infos = []
    for name, p in space.items():
        info = api_pb2.HParamInfo(name=name, description=f"{p.scale} scale")
        if p.scale == "choice":
            info.type = _data_type(_shown(p.values[0]))
            info.domain_discrete.extend(map(_shown, p.values))  # a ListValue takes Python values
        else:
            info.type = api_pb2.DATA_TYPE_FLOAT64
            info.domain_interval.min_value, info.domain_interval.max_value = p.low, p.high
        infos.append(info)
    metrics = [api_pb2.MetricInfo(name=api_pb2.MetricName(tag=tag), display_name=shown)
               for tag, shown in METRICS.items()]
    return _write(out_dir, [(hp.experiment_pb(infos, metrics), 0)])


def write_trial(run_dir, params, status, metrics):
    """One trial's session in ``run_dir/hparams``.

    Args:
        params: the values sampled for it, by axis; status: its results status
            ("ok", "pruned", "diverged", "failed"); metrics: its results (dev_accuracy
            and epochs where it has them).
    Returns:
        the Path of the events file written.
    """
    epochs = metrics.get("epochs") or 0
    summaries = [(hp.session_start_pb(hparams={k: _shown(v) for k, v in params.items()}), 0)]
    summaries += [(_scalar(tag, metrics[tag]), epochs) for tag in METRICS
                  if metrics.get(tag) is not None]
    ended = api_pb2.STATUS_SUCCESS if status in _ENDED else api_pb2.STATUS_FAILURE
    summaries.append((hp.session_end_pb(ended), epochs))
    return _write(Path(run_dir) / FOLDER, summaries)


def _shown(value):
    """A value as HParams takes it: a layer list (conv_channels) as text, "16-32-64" or "none"."""
    return ("-".join(map(str, value)) or "none") if isinstance(value, tuple) else value


def _data_type(value):
    if isinstance(value, bool):
        return api_pb2.DATA_TYPE_BOOL
    return api_pb2.DATA_TYPE_STRING if isinstance(value, str) else api_pb2.DATA_TYPE_FLOAT64


def _scalar(tag, value):
    return tf.Summary(value=[tf.Summary.Value(tag=tag, simple_value=value)])


def _write(folder, summaries):
    """Replace the events file directly in ``folder`` by one holding ``summaries`` ((summary, step))."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    aside = Path(tempfile.mkdtemp(prefix=".tmp-", dir=folder))
    writer = tf.summary.FileWriter(str(aside))
    for summary, step in summaries:
        writer.add_summary(summary, step)
    writer.close()
    (new,) = aside.glob("events.out.tfevents.*")
    for old in folder.glob("events.out.tfevents.*"):
        old.unlink()
    os.replace(new, folder / new.name)
    aside.rmdir()
    return folder / new.name
