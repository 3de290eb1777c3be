"""``signs tune``: random search on the right scale, coarse to fine, trials side by side."""
import json
import sys
from pathlib import Path

from ..search import loop, pruning, study
from ..data import load_signs
from ..errors import SignsError
from ..search.space import SearchSpace
from .args import add_data_arg, add_device_arg, add_setting_args


def run(args):
    space = SearchSpace.from_json(args.space) if args.space else loop.default_space()
    if args.dry_run:
        for i, params in enumerate(loop.sample_trials(space, args.trials, args.seed)):
            print(json.dumps({"round": 0, "trial": i, **params}))
        return
    if not args.out:
        raise SignsError("--out DIR is required: the search folder (run again with it to resume)")
    prune = _pruner(args) if args.prune else None
    loop.check_settings(space, args.trials, args.workers, args.backend, args.epochs,
                          args.zoom_rounds, args.dev_fraction, args.seed, args.population,
                          args.finalists, args.final_seeds, prune, args.sampler)  # before the data
    data = load_signs(args.data_dir)

    def report(row):
        acc = "" if row["dev_accuracy"] is None else f" dev accuracy {row['dev_accuracy']:.4f}"
        print(f"{row['run_dir']}: {row['status']}{acc}{' ' + row['reason'] if row['reason'] else ''}",
              file=sys.stderr)

    result = loop.tune(space, data.X_train, data.Y_train, args.out, trials=args.trials,
                         workers=args.workers, backend=args.backend, ray_address=args.ray_address,
                         epochs=args.epochs, zoom_rounds=args.zoom_rounds,
                         dev_fraction=args.dev_fraction, seed=args.seed, device=args.device,
                         report=report, prune=prune, population=args.population,
                         finalists=args.finalists, final_seeds=args.final_seeds,
                         final_test=(data.X_test, data.Y_test) if args.final_test else None,
                         storage=args.storage, study_name=args.study, sampler=args.sampler)
    best, ok = result["best"], sum(r["status"] == "ok" for r in result["rows"])
    pruned = sum(r["status"] == "pruned" for r in result["rows"])
    print(f"{ok} of {len(result['rows'])} trials finished{f' ({pruned} pruned)' if pruned else ''}; "
          f"results: {Path(args.out) / 'results.csv'}")
    if result["rows"] and not ok + pruned:
        print("signs: error: every trial failed (see the reasons above and in results.csv)",
              file=sys.stderr)
        return 1
    if best is not None:
        print(f"best: {best['run_dir']} dev accuracy {best['dev_accuracy']:.4f} "
              + json.dumps(loop.row_params(best, space)))
    for f in result["finalists"]:
        print(f"finalist {f['run_dir']}: mean dev accuracy {f['mean_dev_accuracy']:.4f} over "
              f"{len(f['dev_accuracies'])} seeds ({', '.join(f'{a:.4f}' for a in f['dev_accuracies'])})")
    if result["final"] is not None:
        print(f"Test Accuracy: {result['final']['test_accuracy']:.6f} "
              f"(best config retrained on the full training set: {Path(args.out) / 'final'})")
        print(f"Test Accuracy: {result['baseline']['test_accuracy']:.6f} "
              f"(the default config, same epochs: {Path(args.out) / 'baseline'})")


def _pruner(args):
    try:
        return pruning.Asha(args.prune_min_epochs, args.prune_eta)
    except SignsError as e:  # name the flag, not Asha's field
        raise SignsError(str(e), argument=f"prune_{e.argument}") from None


def add_parser(sub):
    p = sub.add_parser("tune", help="random hyperparameter search, coarse to fine, in parallel")
    p.add_argument("--space", metavar="FILE", help="search space JSON (default: learning_rate, "
                   "beta1, minibatch_size, hidden_units_1, hidden_units_2)")
    p.add_argument("--backend", choices=loop.BACKENDS, default="local",
                   help="local: a process pool here (default); ray: Ray tasks")
    p.add_argument("--ray-address", metavar="ADDR", help="join this Ray cluster "
                   "(default: start a local one with --workers CPUs)")
    p.add_argument("--epochs", type=int, help="num_epochs of every trial (unless the space samples it)")
    p.add_argument("--prune", action="store_true", help="stop hopeless trials early (Optuna's "
                   "asynchronous successive halving): at each rung, only the top 1/eta of the "
                   "trials that reached it go on")
    p.add_argument("--storage", metavar="URL", help="the study database, shared by every process "
                   "of the search: sqlite:///FILE or postgresql://USER:PASSWORD@HOST:PORT/DB "
                   "(default: sqlite:///OUT/study.db)")
    p.add_argument("--study", metavar="NAME", help="the study's name in --storage "
                   "(default: the name of the --out folder)")
    p.add_argument("--sampler", choices=study.SAMPLERS, default="random",
                   help="random: the lecture's, each axis on its scale (default); tpe: Optuna's TPE")
    p.add_argument("--out", metavar="DIR", help="search folder (the same DIR resumes)")
    p.add_argument("--final-test", action="store_true",
                   help="retrain the best config on the whole training set and report test accuracy once")
    p.add_argument("--dry-run", action="store_true",
                   help="print round 0's sampled configurations as JSON lines; train nothing")
    add_setting_args(p, "trials", "workers", "population", "zoom_rounds", "finalists", "final_seeds",
                     "prune_min_epochs", "prune_eta", "dev_fraction", "seed")
    add_data_arg(p)
    add_device_arg(p)
    p.set_defaults(func=run)
