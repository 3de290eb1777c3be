"""The same search with and without pruning (ASHA): wall time, epochs trained, best dev accuracy.

Runs ``tune`` on the default space (the README's settings: 12 trials x 300
epochs, 1 worker, seed 0, dev = 20 % of the training set) twice, each into its
own folder under ``--out``: every trial trained to the end, then with
``pruning.Asha`` (min_epochs 20, eta 3 unless told otherwise). Epochs trained
do not depend on how busy the machine is; wall time does (the load average
is printed with it).

    .venv/bin/python benchmarks/search_pruning.py --out /tmp/prune_bench [--population 16]

Prints a table, then one JSON line with the numbers.
"""
import argparse
import json
import os
import time
from pathlib import Path

from signs_model import runs
from signs_model.data import load_signs
from signs_model.search.pruning import Asha
from signs_model.search import default_space, tune


def measure(data, out, prune, args):
    """Wall seconds, epochs trained, best dev accuracy and statuses of one search."""
    t0 = time.perf_counter()
    result = tune(default_space(), data.X_train, data.Y_train, out, trials=args.trials,
                  workers=args.workers, epochs=args.epochs, seed=args.seed, device="cpu", prune=prune,
                  population=args.population)
    wall = time.perf_counter() - t0
    rows = result["rows"]
    epochs = sum(runs.read_stopped(Path(out) / r["run_dir"])["metrics"]["epochs"]
                 if r["status"] == "pruned" else args.epochs for r in rows)
    return {"prune": prune is not None, "wall_s": round(wall, 1), "epochs_trained": epochs,
            "best_dev_accuracy": result["best"]["dev_accuracy"], "best": result["best"]["run_dir"],
            "statuses": {s: sum(r["status"] == s for r in rows) for s in {r["status"] for r in rows}}}


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--trials", type=int, default=12)
    p.add_argument("--epochs", type=int, default=300)
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--population", type=int, default=1,
                   help="trials trained together (default 1: one graph per trial, as in the README)")
    p.add_argument("--min-epochs", type=int, default=Asha().min_epochs)
    p.add_argument("--eta", type=int, default=Asha().eta)
    p.add_argument("--out", required=True, help="a new folder: one search folder per variant in it")
    p.add_argument("--data-dir")
    args = p.parse_args()
    data = load_signs(args.data_dir)
    load_before = os.getloadavg()[0]  # other processes share these CPUs: say how busy they were
    results = [measure(data, Path(args.out) / name, prune, args) for name, prune in
               (("plain", None), ("pruned", Asha(args.min_epochs, args.eta)))]
    load_after = os.getloadavg()[0]
    print(f"default space, {args.trials} trials x {args.epochs} epochs, {args.workers} worker(s), "
          f"population {args.population}, "
          f"seed {args.seed}, {os.cpu_count()} CPUs; ASHA min_epochs {args.min_epochs}, eta {args.eta}; "
          f"load average {load_before:.2f} before / {load_after:.2f} after")
    print(f"{'pruning':>8} {'wall s':>7} {'epochs trained':>15} {'best dev':>9}  statuses")
    for r in results:
        print(f"{'on' if r['prune'] else 'off':>8} {r['wall_s']:>7} {r['epochs_trained']:>15} "
              f"{r['best_dev_accuracy']:>9.4f}  {r['statuses']}")
    print(json.dumps({"benchmark": "search_pruning", **{k: v for k, v in vars(args).items()
                                                         if k not in ("out", "data_dir")},
                      "cpus": os.cpu_count(), "load_before": round(load_before, 2),
                      "load_after": round(load_after, 2), "results": results}))


if __name__ == "__main__":
    main()
