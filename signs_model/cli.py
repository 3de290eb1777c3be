"""The ``signs`` command: train, tune, predict, data, experiment.

Every subcommand is a thin layer over package functions. Bad input ends with
one line ``signs: error: ...`` on stderr and exit status 2, never a traceback.
"""
import argparse
import importlib
import importlib.util
import json
import sys

from .config import OPTIMIZERS
from .errors import SignsError


def comma_separated(convert, example):
    """An argparse type: "25,12" -> (25, 12) with ``convert`` applied to each item."""
    def parse(text):
        try:
            return tuple(convert(v) for v in text.split(","))
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected comma-separated values like {example}, "
                                             f"got {text!r}") from None
    return parse


def non_negative_int(text):
    """An argparse type for counts where 0 means "never"."""
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected an int >= 0, got {text!r}")
    return value


def add_data_arg(p):
    p.add_argument("--data-dir", help="folder with train_signs.h5 and test_signs.h5 "
                   "(default: $SIGNS_DATA_DIR, else datasets/)")


def add_device_arg(p):
    from .device import DEVICES

    p.add_argument("--device", choices=DEVICES, default="auto",
                   help="auto: a GPU if TensorFlow sees one; gpu: refuse to run without one")


def add_hparam_args(p, resume=False):
    """Hyperparameter flags shared by train (and resume). None means: keep the default/saved value."""
    g = p.add_argument_group("hyperparameters (defaults: the course's)")
    g.add_argument("--epochs", type=int, help="epochs (default 1500; with --resume: further epochs)")
    g.add_argument("--learning-rate", type=float, help="alpha0 (default 0.0001)")
    g.add_argument("--minibatch-size", type=int, help="default 32")
    g.add_argument("--seed", type=int, help="minibatch shuffling seed; epoch e uses seed+1+e (default 3)")
    g.add_argument("--decay-rate", type=float, help="alpha = alpha0 / (1 + decay_rate * epoch) (default 0)")
    if not resume:
        g.add_argument("--tf-seed", type=int, help="graph-level seed (default 1)")
        g.add_argument("--hidden-units", type=comma_separated(int, "25,12"),
                       help="hidden layer sizes (default 25,12)")
        g.add_argument("--optimizer", choices=OPTIMIZERS, help="default adam")
        g.add_argument("--batch-norm", action="store_true", default=None,
                       help="batch norm on every hidden layer (their b is dropped)")
    g.add_argument("--beta", type=float, help="momentum's beta (default 0.9)")
    g.add_argument("--beta1", type=float, help="Adam's beta1 (default 0.9)")
    g.add_argument("--beta2", type=float, help="Adam's beta2 / RMSprop's decay (default 0.999)")
    g.add_argument("--epsilon", type=float, help="Adam / RMSprop epsilon (default 1e-8)")
    g.add_argument("--l2-lambda", type=float, help="L2 regularization lambda (default 0)")
    g.add_argument("--keep-prob", type=float, help="dropout keep probability (default 1: no dropout)")


HPARAM_FLAGS = {"epochs": "num_epochs", "learning_rate": "learning_rate",
                "minibatch_size": "minibatch_size", "seed": "seed", "tf_seed": "tf_seed",
                "decay_rate": "decay_rate", "hidden_units": "hidden_units",
                "optimizer": "optimizer", "batch_norm": "batch_norm", "beta": "beta",
                "beta1": "beta1", "beta2": "beta2", "epsilon": "epsilon",
                "l2_lambda": "l2_lambda", "keep_prob": "keep_prob"}


def hparam_changes(args):
    """The hyperparameters given on the command line, as TrainConfig field -> value."""
    return {field: getattr(args, flag) for flag, field in HPARAM_FLAGS.items()
            if getattr(args, flag, None) is not None}


def cmd_train(args):
    from . import runs
    from . import train as training
    from .config import TrainConfig
    from .device import session_config
    from .data import load_signs

    changes = hparam_changes(args)  # nonsense is refused before the data is read
    if args.resume:
        epochs = changes.pop("num_epochs", None)
        cfg = training.resume_config(args.resume, epochs=epochs, **changes)
    else:
        cfg = TrainConfig(**changes)
    session_config(args.device)  # refuse a missing GPU before making a run folder
    data = load_signs(args.data_dir)
    eval_sets = {"train": (data.X_train, data.Y_train), "test": (data.X_test, data.Y_test)}
    training.check_inputs(cfg, data.X_train, data.Y_train, eval_sets)
    run_dir = args.resume or args.out or runs.new_run_dir(args.runs_root)
    print(f"run folder: {run_dir}", file=sys.stderr)
    result = training.train(
        cfg, data.X_train, data.Y_train, eval_sets, run_dir=run_dir, engine=args.engine, device=args.device, resume=bool(args.resume),
        checkpoint_every=args.checkpoint_every, print_every=args.print_every,
        progress=not args.no_progress)
    m = result["metrics"]
    print(f"Train Accuracy: {m['train_accuracy']:.6f}")
    print(f"Test Accuracy: {m['test_accuracy']:.6f}")
    print(f"final cost {m['final_cost']:.6f} after {m['epochs']} epochs, {m['seconds']:.1f} s "
          f"({m['engine']} engine, {m['device']}); run folder: {run_dir}")


def cmd_predict(args):
    from .device import session_config
    from .predict import Predictor, check_batch_size

    check_batch_size(args.batch_size)
    predictor = Predictor(args.run, session_config(args.device))
    failed = 0
    try:
        for r in predictor.predict_files(args.images, args.batch_size):
            if "error" in r:
                failed += 1
                print(f"signs: error: {r['error']}", file=sys.stderr)
                if args.json:
                    print(json.dumps(r))
            elif args.json:
                print(json.dumps(r))
            else:
                print(f"{r['image']}: {r['digit']} (p={r['probabilities'][r['digit']]:.3f})")
    finally:
        predictor.close()
    return 1 if failed else 0


def cmd_data_info(args):
    from .data import data_info

    info = data_info(args.data_dir)
    if args.json:
        print(json.dumps(info, indent=2))
        return
    print(f"data folder: {info['data_dir']}   classes: {info['classes']}")
    for split in ("train", "test"):
        s = info[split]
        print(f"{split:5s} {s['file']}: x {tuple(s['x_shape'])}, y {tuple(s['y_shape'])}, "
              f"per class {s['per_class']}")


def cmd_data_build(args):
    from .data import build_dataset

    out = build_dataset(args.source, args.out, args.test_fraction, args.seed)
    print(f"wrote {out['out_dir']}/train_signs.h5 ({out['train']} images) and "
          f"test_signs.h5 ({out['test']} images), classes {out['classes']}")


def build_parser():
    from .train import ENGINES

    parser = argparse.ArgumentParser(prog="signs", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("train", help="train the network on SIGNS (the course's model by default)")
    add_data_arg(p)
    p.add_argument("--out", help="run folder (default: a new folder under runs/)")
    p.add_argument("--runs-root", default="runs", help="where new run folders go (default runs/)")
    p.add_argument("--resume", metavar="RUN_DIR", help="continue a run from its last checkpoint "
                   "(panda: change --learning-rate, add --epochs)")
    p.add_argument("--engine", choices=ENGINES, default="fast",
                   help="fast: whole epochs in the graph (default); feed: the course's feed_dict loop")
    add_device_arg(p)
    p.add_argument("--checkpoint-every", type=non_negative_int, default=100, metavar="N",
                   help="save a checkpoint every N epochs (default 100; Ctrl-C also saves)")
    p.add_argument("--print-every", type=non_negative_int, default=100, metavar="N",
                   help="print the cost every N epochs (default 100, as the course; 0: never)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_hparam_args(p)
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("predict", help="classify your own photos with a trained run")
    p.add_argument("--run", required=True, metavar="RUN_DIR", help="a finished run folder")
    p.add_argument("images", nargs="+", metavar="IMAGE")
    p.add_argument("--json", action="store_true", help="one JSON object per line")
    p.add_argument("--batch-size", type=int, default=256, help="images per session run")
    add_device_arg(p)
    p.set_defaults(func=cmd_predict)

    p = sub.add_parser("data", help="inspect or build the SIGNS h5 files")
    data_sub = p.add_subparsers(dest="data_command", required=True)
    q = data_sub.add_parser("info", help="shapes and counts per class")
    add_data_arg(q)
    q.add_argument("--json", action="store_true")
    q.set_defaults(func=cmd_data_info)
    q = data_sub.add_parser("build", help="write the course h5 pair from a folder of photos")
    q.add_argument("--from", dest="source", required=True, metavar="FOLDER",
                   help="photos named <digit>_*.jpg, or in class subfolders 0/ ... 5/")
    q.add_argument("--out", required=True, metavar="DIR")
    q.add_argument("--test-fraction", type=float, default=0.1)
    q.add_argument("--seed", type=int, default=0)
    q.set_defaults(func=cmd_data_build)

    for name in ("signs_model.search", "signs_model.experiments"):  # tune, experiment
        if importlib.util.find_spec(name):
            importlib.import_module(name).add_subcommands(sub)
    return parser


def _version():
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("signs-model")
    except PackageNotFoundError:  # run from a source tree that was not installed
        return "(not installed)"


def main(argv=None):
    try:
        args = build_parser().parse_args(argv)
        return args.func(args) or 0
    except SignsError as e:
        print(f"signs: error: {e}", file=sys.stderr)
        return 2
    except OSError as e:  # a file or folder the checks above could not foresee (a disk filling up)
        where = f"{e.filename}: " if e.filename else ""
        print(f"signs: error: {where}{e.strerror or e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt as e:
        print(f"signs: interrupted{': ' + str(e) if str(e) else ''}", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
