"""The run folder: its layout, and every read and write of it.

A run is a folder that can be copied, renamed or moved to another machine and
still be resumed or predicted from (checkpoints are found by file name, not by
the absolute paths TensorFlow's ``checkpoint`` index may hold)::

    params.json       hyperparameters, engine, device, training segments (written first)
    costs.csv         epoch,cost: one row per epoch trained so far
    checkpoints/      model.ckpt-N.*: Saver checkpoints after N epochs
    events.out.tfevents.*   TensorBoard
    parameters.npz    the trained parameters  \\
    cost.png          the cost curve           > end-of-run files, metrics.json last:
    metrics.json      accuracies, final cost  /  a run without it did not finish
    stopped.json      why and after how many epochs it was stopped early (train's on_epoch,
                      a pruned search trial): it has a checkpoint but no end-of-run files
    evaluate-<photos>-confusion.png   ``evaluate`` on the photo folder <photos>: confusion
    evaluate-<photos>-wrong.png       matrix and the photos it got wrong (one pair per folder)

Every file is written whole or not at all (``atomic``); a ``.tmp-*`` file is a
write that was cut short, never read, and removed when the folder is reopened.
"""
import contextlib
import json
import re
import zipfile
from datetime import datetime
from pathlib import Path

import numpy as np

from .config import TrainConfig
from .errors import SignsError
from .atomic import failpoint, owned, read_csv, write_csv, write_json, write_npz

PARAMS, COSTS, METRICS, STOPPED = "params.json", "costs.csv", "metrics.json", "stopped.json"
PARAMETERS, COST_PLOT, CHECKPOINTS = "parameters.npz", "cost.png", "checkpoints"
CHECKPOINT_PREFIX = "model.ckpt"
CHECKPOINT_CHOICES = ("final", "last")  # what a finished run wrote, or its newest checkpoint
RUN_KEYS = ("engine", "device", "history", "notes")  # params.json keys that are not hyperparameters
_CHECKPOINT_INDEX = re.compile(re.escape(CHECKPOINT_PREFIX) + r"-(\d+)\.index")


def new_run_dir(root="runs"):
    """A fresh folder ``root/YYYYmmdd-HHMMSS[-N]``, created here so that two runs started in the
    same second never get the same one."""
    root = Path(root)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    try:
        root.mkdir(parents=True, exist_ok=True)
        for n in range(10**6):
            path = root / (stamp if n == 0 else f"{stamp}-{n}")
            try:
                path.mkdir()
                return path
            except FileExistsError:
                continue
    except OSError as e:
        raise SignsError(f"cannot make a run folder under {root} ({e.strerror}); expected a "
                         f"folder this user can write") from None
    raise SignsError(f"{root}: no free run folder name for {stamp}")


@contextlib.contextmanager
def open_for_writing(run_dir):
    """Own ``run_dir`` for writing for the block, and make sure it is a folder we can write.

    One owner at a time (``files.owned``): a second command on the folder is
    refused while the first runs, naming its process; the lock dies with its
    process. Once owned, leftovers of writes that were cut short (``.tmp-*``
    files) are removed (never another live writer's: there is none).
    Yields:
        the folder as a Path.
    """
    run_dir = Path(run_dir)
    if run_dir.exists() and not run_dir.is_dir():
        raise SignsError(f"run folder {run_dir} is a file; expected a folder (new or from a run)")
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise SignsError(f"cannot write the run folder {run_dir} ({e.strerror}); "
                         f"expected a folder this user can write") from None
    with owned(run_dir, "run folder"):
        try:
            (run_dir / CHECKPOINTS).mkdir(exist_ok=True)
            probe = run_dir / ".tmp-probe"
            probe.write_bytes(b"")
            probe.unlink()
        except OSError as e:
            raise SignsError(f"cannot write the run folder {run_dir} ({e.strerror}); "
                             f"expected a folder this user can write") from None
        for leftover in run_dir.glob(".tmp-*"):
            leftover.unlink(missing_ok=True)
        yield run_dir


def latest_checkpoint(run_dir):
    """(checkpoint path prefix, epochs it holds) of the newest complete checkpoint, or None.

    TensorFlow writes a checkpoint's ``.index`` last, so a checkpoint with
    one is complete; the ``checkpoint`` index file is not consulted, so a moved
    folder still finds its checkpoints.
    """
    folder = Path(run_dir) / CHECKPOINTS
    steps = [int(m.group(1)) for p in folder.glob(f"{CHECKPOINT_PREFIX}-*.index")
             if (m := _CHECKPOINT_INDEX.fullmatch(p.name))]
    if not steps:
        return None
    return str(folder / f"{CHECKPOINT_PREFIX}-{max(steps)}"), max(steps)


def checkpoint_prefix(run_dir):
    return str(Path(run_dir) / CHECKPOINTS / CHECKPOINT_PREFIX)


def read_params(run_dir):
    """params.json as a dict, or a clear error if it is missing or damaged."""
    path = Path(run_dir) / PARAMS
    if not path.is_file():
        raise SignsError(f"{run_dir}: no {PARAMS}; expected a run folder written by training")
    try:
        with open(path) as f:
            params = json.load(f)
        if not isinstance(params, dict):
            raise ValueError("not a JSON object")
        return params
    except (OSError, UnicodeDecodeError, ValueError) as e:
        raise SignsError(f"{path}: unreadable ({e}); expected the JSON object training writes "
                         f"(a damaged run folder: start a new run)") from None


def load_config(run_dir, params=None):
    """The TrainConfig a run was planned with (its run bookkeeping keys skipped).

    Args:
        params: params.json's dict, if already read.
    """
    params = read_params(run_dir) if params is None else params
    try:
        return TrainConfig.from_dict({k: v for k, v in params.items() if k not in RUN_KEYS})
    except (SignsError, TypeError) as e:
        raise SignsError(f"{Path(run_dir) / PARAMS}: {e}") from None


def read_metrics(run_dir):
    """metrics.json as a dict, or None if the run did not finish (or the file is damaged)."""
    try:
        with open(Path(run_dir) / METRICS) as f:
            metrics = json.load(f)
        return metrics if isinstance(metrics, dict) else None
    except (OSError, ValueError):
        return None


def read_stopped(run_dir):
    """stopped.json as a dict ("reason", "metrics"), or None if the run was not stopped early."""
    try:
        with open(Path(run_dir) / STOPPED) as f:
            stopped = json.load(f)
        return stopped if isinstance(stopped, dict) else None
    except (OSError, ValueError):
        return None


def has_progress(run_dir):
    """True if the folder holds a checkpoint or a finished run: something a restart would lose."""
    return latest_checkpoint(run_dir) is not None or (Path(run_dir) / METRICS).exists()


def read_costs(run_dir, epochs):
    """The cost of each of the first ``epochs`` epochs, from costs.csv."""
    path = Path(run_dir) / COSTS
    try:
        costs = [float(r["cost"]) for r in read_csv(path)]
    except FileNotFoundError:
        costs = None
    except (OSError, KeyError, TypeError, ValueError, UnicodeDecodeError):
        raise SignsError(f"{path}: unreadable; expected the epoch,cost rows training writes") from None
    if costs is None or len(costs) < epochs:
        found = "missing" if costs is None else f"has {len(costs)} rows"
        raise SignsError(f"{path} is {found}; expected the cost of each of the {epochs} epochs "
                         f"in the checkpoint, so the run cannot be continued (its checkpoint "
                         f"still holds the weights)")
    return costs[:epochs]


def load_run(run_dir):
    """What a run folder holds so far, to continue it.

    Returns:
        (TrainConfig as planned, history list, epochs in its last checkpoint,
        costs of those epochs). A run that saved no checkpoint yet gives 0
        epochs and no costs: it starts again from the beginning. Rows written
        after the checkpoint are dropped: those epochs will be run again.
    """
    params = read_params(run_dir)
    cfg, history = load_config(run_dir, params), params.get("history", [])
    found = latest_checkpoint(run_dir)
    done = found[1] if found else 0
    return cfg, history, done, read_costs(run_dir, done) if done else []


def load_parameters(run_dir, checkpoint="final"):
    """The trained parameters of a run as a dict of NumPy arrays (W1, b1, ..., bn1/gamma, ...).

    Args:
        checkpoint: "final": those a finished run wrote (parameters.npz); a run
            without metrics.json did not finish (killed, stopped, or a resumed
            segment cut short: an older parameters.npz is not its weights) and is
            refused. "last": its newest checkpoint, finished or not.
    """
    if checkpoint == "last":
        return _checkpoint_parameters(run_dir)
    if checkpoint != "final":
        raise SignsError(f"checkpoint must be one of {', '.join(CHECKPOINT_CHOICES)}, got "
                         f"{checkpoint!r}", argument="checkpoint")
    if read_metrics(run_dir) is None and (Path(run_dir) / PARAMS).is_file():
        found = latest_checkpoint(run_dir)
        last = (f"its last checkpoint holds {found[1]} epochs" if found
                else "it saved no checkpoint yet")
        raise SignsError(f"{run_dir}: the run did not finish (no {METRICS}; {last}); expected a "
                         f"finished run: resume it to finish it, or choose its last checkpoint "
                         f"(checkpoint last)")
    path = Path(run_dir) / PARAMETERS
    if not path.is_file():
        raise SignsError(f"{run_dir}: no {PARAMETERS}; expected a finished run folder "
                         f"(an interrupted run is finished by resuming it)")
    try:
        with np.load(path) as f:
            return {k: f[k] for k in f.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as e:
        raise SignsError(f"{path}: unreadable ({type(e).__name__}); expected the arrays training "
                         f"writes (resume the run to write it again)") from None


def _checkpoint_parameters(run_dir):
    """The model's variables in a run's newest checkpoint (no optimizer state)."""
    import tensorflow.compat.v1 as tf

    found = latest_checkpoint(run_dir)
    if found is None:
        raise SignsError(f"{run_dir}: no checkpoint in {CHECKPOINTS}/; expected a run that "
                         f"trained at least until its first checkpoint")
    try:
        reader = tf.train.load_checkpoint(found[0])
        shapes = reader.get_variable_to_shape_map()
        # an optimizer's slots are named after their variable (W1/Adam); its scalars have no shape
        model = [n for n in shapes if shapes[n] and n.rpartition("/")[0] not in shapes]
        return {n: reader.get_tensor(n) for n in model}
    except (tf.errors.OpError, ValueError) as e:
        raise SignsError(f"{found[0]}: unreadable checkpoint ({type(e).__name__}); expected the "
                         f"checkpoint training saves") from None


def evaluation_files(run_dir, photos):
    """The figures ``evaluate`` writes for the photo folder ``photos``: (confusion matrix, wrong photos).

    They are named after the folder (``evaluate-foreign_photos_dev-confusion.png``),
    so evaluating another folder keeps them; evaluating the same one replaces them.
    """
    name = re.sub(r"[^\w.-]", "_", Path(photos).resolve().name) or "photos"
    return tuple(Path(run_dir) / f"evaluate-{name}-{what}.png" for what in ("confusion", "wrong"))


def start_segment(run_dir, cfg, history, done, engine, device, notes=None):
    """Write params.json for a run (or its next segment) and mark it unfinished.

    Args:
        cfg: the TrainConfig as planned: num_epochs is the total after this segment.
        history: the segments so far (a new entry is appended).
        done: epochs already in the checkpoint.
    """
    run_dir = Path(run_dir)
    if not done:  # a fresh start: nothing from an earlier attempt may stay
        (run_dir / COSTS).unlink(missing_ok=True)
        for old in run_dir.glob("events.out.tfevents.*"):
            old.unlink()
    (run_dir / METRICS).unlink(missing_ok=True)  # not finished until written again
    (run_dir / STOPPED).unlink(missing_ok=True)  # and no longer stopped: it trains on
    history.append({"start_epoch": done, "end_epoch": cfg.num_epochs,
                    "learning_rate": cfg.learning_rate, "engine": engine,
                    "started": datetime.now().isoformat(timespec="seconds")})
    write_json(run_dir / PARAMS, {**cfg.to_dict(), "engine": engine, "device": device,
                                  "history": history, "notes": notes or {}})
    failpoint("params-written")


def write_costs(run_dir, costs):
    write_csv(Path(run_dir) / COSTS, ["epoch", "cost"], enumerate(costs))


def finish(run_dir, cfg, result):
    """Write the end-of-run files; metrics.json goes last and marks the run finished."""
    from .plots import plot_costs

    run_dir = Path(run_dir)
    write_npz(run_dir / PARAMETERS, result["parameters"])
    plot_costs(result["costs"], cfg.learning_rate, per="epochs", path=run_dir / COST_PLOT,
               show=False)
    write_json(run_dir / METRICS, result["metrics"])


def stop(run_dir, reason, metrics):
    """Mark a run stopped early on purpose (its checkpoint is saved): not finished, resumable."""
    write_json(Path(run_dir) / STOPPED, {"reason": reason, "metrics": metrics})


def write_failure(run_dir, error, saved_epochs):
    """A one-line SignsError for a write that failed mid-run, saying what is safe on disk."""
    reason = getattr(error, "strerror", None)
    if reason is None:  # TensorFlow's OpError: the OS's words end its last plain line
        lines = [line for line in str(getattr(error, "message", error)).splitlines()
                 if line and not line.startswith(("\t", " ", "Graph execution", "Detected at",
                                                  "Node:"))]
        reason = lines[-1].rsplit("; ", 1)[-1] if lines else type(error).__name__
    kept = (f"the checkpoint after epoch {saved_epochs} is intact; resume the run once the "
            f"folder is writable" if saved_epochs else "no checkpoint was saved yet")
    return SignsError(f"could not write the run folder {run_dir} ({reason}); {kept}")
