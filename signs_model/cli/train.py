"""``signs train``: train the network (the course's model by default), or resume a run."""
from .. import runs
from .. import train as trainer
from ..config import PRESETS, TrainConfig, preset
from ..errors import SignsError
from ..data import load_signs
from ..engines import ENGINES
from .args import add_data_arg, add_device_arg, add_hparam_args, hparam_changes, non_negative_int


def run(args):
    changes = hparam_changes(args)  # nonsense is refused before the data is read
    if args.resume:
        if args.preset:
            raise SignsError("a resumed run keeps its recipe; expected --preset only for a new run",
                             argument="preset")
        cfg = trainer.resume_config(args.resume, epochs=changes.pop("num_epochs", None), **changes)
    else:
        cfg = TrainConfig(**{**preset(args.preset or "course"), **changes})
    data = load_signs(args.data_dir)
    eval_sets = {"train": (data.X_train, data.Y_train), "test": (data.X_test, data.Y_test)}
    run_dir = args.resume or args.out or runs.new_run_dir(args.runs_root)
    result = trainer.train(cfg, data.X_train, data.Y_train, eval_sets, run_dir=run_dir,
                           engine=args.engine, device=args.device, resume=bool(args.resume),
                           checkpoint_every=args.checkpoint_every, print_every=args.print_every,
                           progress=not args.no_progress)
    m = result["metrics"]
    print(f"Train Accuracy: {m['train_accuracy']:.6f}")
    print(f"Test Accuracy: {m['test_accuracy']:.6f}")
    print(f"final cost {m['final_cost']:.6f} after {m['epochs']} epochs, {m['seconds']:.1f} s "
          f"({m['engine']} engine, {m['device']}); run folder: {run_dir}")


def add_parser(sub):
    p = sub.add_parser("train", help="train the network on SIGNS (the course's model by default)")
    add_data_arg(p)
    p.add_argument("--out", help="run folder (default: a new folder under runs/)")
    p.add_argument("--runs-root", default="runs", help="where new run folders go (default runs/)")
    p.add_argument("--resume", metavar="RUN_DIR", help="continue a run from its last checkpoint "
                   "(panda: change --learning-rate, add --epochs)")
    p.add_argument("--preset", choices=list(PRESETS), help="a named recipe; flags given "
                   "beside it override it (course: the defaults; photos: the recipe that reads "
                   "photos other than SIGNS best, see the README)")
    p.add_argument("--engine", choices=list(ENGINES), default="fast",
                   help="fast: whole epochs in the graph (default); feed: the course's feed_dict loop")
    add_device_arg(p)
    p.add_argument("--checkpoint-every", type=non_negative_int, default=100, metavar="N",
                   help="save a checkpoint every N epochs (default 100; Ctrl-C also saves)")
    p.add_argument("--print-every", type=non_negative_int, default=100, metavar="N",
                   help="print the cost every N epochs (default 100, as the course; 0: never)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_hparam_args(p)
    p.set_defaults(func=run)
