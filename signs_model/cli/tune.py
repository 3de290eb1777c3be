"""``signs tune``: random search on the right scale, coarse to fine, trials side by side."""
import json
import sys
from pathlib import Path

from .. import pruning, search, study
from ..data import load_signs
from ..errors import SignsError
from ..hparams import SearchSpace
from .args import add_data_arg, add_device_arg


def run(args):
    space = SearchSpace.from_json(args.space) if args.space else search.default_space()
    if args.dry_run:
        for i, params in enumerate(search.sample_trials(space, args.trials, args.seed)):
            print(json.dumps({"round": 0, "trial": i, **params}))
        return
    if not args.out:
        raise SignsError("--out DIR is required: the search folder (run again with it to resume)")
    prune = _pruner(args) if args.prune else None
    search.check_settings(space, args.trials, args.workers, args.backend, args.epochs,
                          args.zoom_rounds, args.dev_fraction, args.seed, args.population,
                          args.finalists, args.final_seeds, prune, args.sampler)  # before the data
    data = load_signs(args.data_dir)

    def report(row):
        acc = "" if row["dev_accuracy"] is None else f" dev accuracy {row['dev_accuracy']:.4f}"
        print(f"{row['run_dir']}: {row['status']}{acc}{' ' + row['reason'] if row['reason'] else ''}",
              file=sys.stderr)

    result = search.tune(space, data.X_train, data.Y_train, args.out, trials=args.trials,
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
              + json.dumps(search.row_params(best, space)))
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
    p.add_argument("--trials", type=int, default=20, metavar="N", help="trials per round (default 20)")
    p.add_argument("--workers", type=int, default=1, metavar="W", help="trials at a time (default 1)")
    p.add_argument("--population", type=int, default=search.POPULATION, metavar="K",
                   help="trials that share their minibatches train together in one graph, at "
                        f"most K at a time (default {search.POPULATION}; 1: one graph per trial)")
    p.add_argument("--backend", choices=search.BACKENDS, default="local",
                   help="local: a process pool here (default); ray: Ray tasks")
    p.add_argument("--ray-address", metavar="ADDR", help="join this Ray cluster "
                   "(default: start a local one with --workers CPUs)")
    p.add_argument("--epochs", type=int, help="num_epochs of every trial (unless the space samples it)")
    p.add_argument("--zoom-rounds", type=int, default=0, metavar="R",
                   help="coarse to fine: R more rounds in the space zoomed around the best trials")
    p.add_argument("--finalists", type=int, default=1, metavar="N",
                   help="train the N best trials again with other seeds and pick by their mean "
                        "dev accuracy (with --final-seeds; default 1)")
    p.add_argument("--final-seeds", type=int, default=1, metavar="S",
                   help="seeds per finalist, its own included (default 1: pick the best trial)")
    p.add_argument("--prune", action="store_true", help="stop hopeless trials early (Optuna's "
                   "asynchronous successive halving): at each rung, only the top 1/eta of the "
                   "trials that reached it go on")
    defaults = pruning.Asha()
    p.add_argument("--prune-min-epochs", type=int, default=defaults.min_epochs, metavar="E",
                   help=f"the first rung, in epochs (default {defaults.min_epochs}); then E*eta, "
                   f"E*eta^2, ...")
    p.add_argument("--prune-eta", type=int, default=defaults.eta, metavar="ETA",
                   help=f"keep the top 1/ETA at each rung (default {defaults.eta})")
    p.add_argument("--storage", metavar="URL", help="the study database, shared by every process "
                   "of the search: sqlite:///FILE or postgresql://USER:PASSWORD@HOST:PORT/DB "
                   "(default: sqlite:///OUT/study.db)")
    p.add_argument("--study", metavar="NAME", help="the study's name in --storage "
                   "(default: the name of the --out folder)")
    p.add_argument("--sampler", choices=study.SAMPLERS, default="random",
                   help="random: the lecture's, each axis on its scale (default); tpe: Optuna's TPE")
    p.add_argument("--dev-fraction", type=float, default=0.2,
                   help="share of the training set held out to judge trials (default 0.2)")
    p.add_argument("--out", metavar="DIR", help="search folder (the same DIR resumes)")
    p.add_argument("--seed", type=int, default=0, help="sampling and dev split seed (default 0)")
    p.add_argument("--final-test", action="store_true",
                   help="retrain the best config on the whole training set and report test accuracy once")
    p.add_argument("--dry-run", action="store_true",
                   help="print round 0's sampled configurations as JSON lines; train nothing")
    add_data_arg(p)
    add_device_arg(p)
    p.set_defaults(func=run)
