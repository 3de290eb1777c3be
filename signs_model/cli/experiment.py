"""``signs experiment bn-lr-range|regularization``: the lectures' claims, measured."""
import sys

from .. import experiments
from ..config import HYPERPARAMETERS, TrainConfig
from ..data import dev_split, load_signs
from ..errors import SignsError
from ..experiments import fmt, status_text, variant
from .args import add_data_arg, add_hparam_args, add_setting_args, comma_separated


def _report_line(row):
    what = (f"lr {row['learning_rate']:.3g} {variant(row['batch_norm'])}" if "learning_rate" in row
            else row["name"])
    accs = " ".join(f"{k.replace('_accuracy', '')} {fmt(row[k])}" for k in row
                    if k.endswith("_accuracy"))
    print(f"{what}: {status_text(row)}, {accs}, {row['seconds']:.1f} s", file=sys.stderr)


def _renamed(error, **flags):
    """The same error, naming this command's flag: e.g. learning_rate -> lr_max (--lr-max)."""
    return SignsError(str(error), argument=flags.get(error.argument, error.argument))


def bn_lr_range(args):
    lrs = experiments.log_spaced(args.lr_min, args.lr_max, args.points)
    try:  # refuse bad values before loading data; the largest rate is --lr-max
        TrainConfig(num_epochs=args.num_epochs, optimizer=args.optimizer, seed=args.seed,
                    learning_rate=lrs[-1])
    except SignsError as e:
        raise _renamed(e, learning_rate="lr_max") from None
    data = load_signs(args.data_dir)
    X, Y, X_dev, Y_dev = dev_split(data.X_train, data.Y_train, args.dev_fraction, args.seed)
    result = experiments.bn_lr_range(X, Y, X_dev, Y_dev, lrs, args.num_epochs, seed=args.seed,
                                     optimizer=args.optimizer, out_dir=args.out,
                                     progress=not args.no_progress, report=_report_line)
    for bn, g in result["summary"].items():
        print(f"{variant(bn)}: best dev accuracy {fmt(g.best)} at lr {g.best_lr:.3g}; "
              f">= 90% of it over {fmt(g.decades, '.2f')} decades")
    print(f"wrote {', '.join(str(p) for p in result['files'])}")


def regularization(args):
    configs = experiments.regularizers(args.l2_lambdas, args.keep_probs)
    base = TrainConfig(learning_rate=args.learning_rate, num_epochs=args.num_epochs, seed=args.seed)
    for changes in configs.values():  # refuse bad values before loading data
        try:
            base.replace(**changes)
        except SignsError as e:  # this command takes lists of them: --l2-lambdas, --keep-probs
            raise _renamed(e, l2_lambda="l2_lambdas", keep_prob="keep_probs") from None
    data = load_signs(args.data_dir)
    result = experiments.regularization(data.X_train, data.Y_train, data.X_test, data.Y_test,
                                        configs, args.num_epochs, base, out_dir=args.out,
                                        progress=not args.no_progress, report=_report_line)
    for r in result["rows"]:
        print(f"{r['name']}: train accuracy {fmt(r['train_accuracy'])}, "
              f"test accuracy {fmt(r['test_accuracy'])}"
              + ("" if r["status"] == "ok" else f" ({status_text(r)})"))
    print(f"wrote {', '.join(str(p) for p in result['files'])}")


def add_parser(sub):
    p = sub.add_parser("experiment", help="batch norm's learning-rate range; regularizers compared")
    sub = p.add_subparsers(dest="experiment", required=True)

    q = sub.add_parser("bn-lr-range", help="dev accuracy vs learning rate, with and without batch norm")
    add_data_arg(q)
    q.add_argument("--out", default="runs/bn-lr-range", metavar="DIR",
                   help="where lr_range.csv/.md/.png go (default runs/bn-lr-range)")
    q.add_argument("--lr-min", type=float, default=1e-5, help="smallest learning rate (default 1e-5)")
    q.add_argument("--lr-max", type=float, default=1e-1, help="largest learning rate (default 1e-1)")
    q.add_argument("--points", type=int, default=7, metavar="K",
                   help="learning rates, log-spaced from --lr-min to --lr-max (default 7)")
    add_setting_args(q, "dev_fraction")
    q.add_argument("--no-progress", action="store_true", help="no progress bar")
    defaults = {h: HYPERPARAMETERS[h].default for h in ("optimizer", "seed")}
    add_hparam_args(q, ("num_epochs", "optimizer", "seed"), defaults={**defaults, "num_epochs": 100})
    q.set_defaults(func=bn_lr_range)

    q = sub.add_parser("regularization",
                       help="test accuracy of the plain model vs L2, dropout and batch norm")
    add_data_arg(q)
    q.add_argument("--out", default="runs/regularization", metavar="DIR",
                   help="where regularization.csv/.md go (default runs/regularization)")
    q.add_argument("--l2-lambdas", type=comma_separated(float, "0.1,1"), default=(0.1, 1.0),
                   metavar="L,L", help="L2 lambdas to try (default 0.1,1)")
    q.add_argument("--keep-probs", type=comma_separated(float, "0.9,0.7"), default=(0.9, 0.7),
                   metavar="P,P", help="dropout keep probabilities to try (default 0.9,0.7)")
    q.add_argument("--no-progress", action="store_true", help="no progress bar")
    names = ("num_epochs", "learning_rate", "seed")
    add_hparam_args(q, names, defaults={h: HYPERPARAMETERS[h].default for h in names})
    q.set_defaults(func=regularization)
