"""Trials per minute of a fixed small search, with 1 and 2 workers (caviar on one machine).

Runs the same search (default space, seed 0, 6 trials x 20 epochs on the full
SIGNS training set minus the dev split) for each worker count, each into a
fresh folder, and times the whole ``tune`` call: worker start-up (each spawned
process imports TensorFlow) is part of the price of running trials side by side.
The worker counts take turns, ``--repeat`` times, so a load spike from other
processes does not land on one count only; the table shows the best and the
median of the repeats.

    .venv/bin/python benchmarks/search_speed.py

Prints a table, then one JSON line with the numbers.
"""
import argparse
import json
import os
import statistics
import tempfile
import time

from signs_model.data import load_signs
from signs_model.search import BACKENDS, default_space, tune


def measure(data, workers, trials, epochs, backend):
    """Wall seconds of one search, and the mean training seconds of its trials."""
    with tempfile.TemporaryDirectory() as out:
        t0 = time.perf_counter()
        rows = tune(default_space(), data.X_train, data.Y_train, out, trials=trials, workers=workers,
                    epochs=epochs, backend=backend, device="cpu")["rows"]
        wall = time.perf_counter() - t0
    if any(r["status"] != "ok" for r in rows):
        raise SystemExit(f"a trial failed: {[r['reason'] for r in rows if r['reason']]}")
    return wall, sum(r["seconds"] for r in rows) / trials


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--trials", type=int, default=6)
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--backend", choices=BACKENDS, default="local")
    p.add_argument("--data-dir")
    args = p.parse_args()
    data = load_signs(args.data_dir)
    load_before = os.getloadavg()[0]  # other processes share these CPUs: say how busy they were
    runs = {w: [] for w in args.workers}
    for _ in range(args.repeat):
        for w in args.workers:
            runs[w].append(measure(data, w, args.trials, args.epochs, args.backend))
    results = []
    for w, measured in runs.items():
        walls = [wall for wall, _ in measured]
        results.append({"workers": w, "walls_s": [round(x, 2) for x in walls],
                        "trials_per_min_best": round(60 * args.trials / min(walls), 2),
                        "trials_per_min_median": round(60 * args.trials / statistics.median(walls), 2),
                        "train_s_per_trial": round(statistics.median(t for _, t in measured), 2)})
    print(f"{args.trials} trials x {args.epochs} epochs, {args.backend} backend, {os.cpu_count()} CPUs, "
          f"{args.repeat} repeats; load average {load_before:.2f} before / {os.getloadavg()[0]:.2f} after")
    print(f"{'workers':>7} {'trials/min best':>15} {'median':>7} {'train s/trial':>13}  wall s")
    for r in results:
        print(f"{r['workers']:>7} {r['trials_per_min_best']:>15.2f} {r['trials_per_min_median']:>7.2f} "
              f"{r['train_s_per_trial']:>13.2f}  {r['walls_s']}")
    base = results[0]["trials_per_min_best"]
    print(json.dumps({"benchmark": "search_speed", "trials": args.trials, "epochs": args.epochs,
                      "backend": args.backend, "cpus": os.cpu_count(), "repeat": args.repeat,
                      "load_before": round(load_before, 2), "load_after": round(os.getloadavg()[0], 2),
                      "results": results,
                      "speedup_best": {r["workers"]: round(r["trials_per_min_best"] / base, 2)
                                       for r in results}}))


if __name__ == "__main__":  # required: worker processes are spawned and re-import this file
    main()
