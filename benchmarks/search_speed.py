"""Trials per minute of the same sampled trials, one graph per trial vs as populations.

Runs the same search (default space, seed 0, the full SIGNS training set minus
the dev split, one worker) twice for each number of epochs: with
``population=1`` (each trial in a graph of its own, ``train.train``) and with
``population=K`` (trials that share their minibatch size train together in one
graph, ``population.train_population``), each into a fresh folder, and times
the whole ``tune`` call: the worker's start-up (it imports TensorFlow) is part
of the price. The two take turns, ``--repeat`` times, so a load spike from
other processes does not land on one of them only; the ratio compares the
best of each. Both train the same trials to the same costs (the largest
difference of a final cost is printed).

    .venv/bin/python benchmarks/search_speed.py --epochs 20 300 --trials 32 12

Prints a table, then one JSON line with the numbers.
"""
import argparse
import json
import os
import tempfile
import time

from signs_model.data import load_signs
from signs_model.search import BACKENDS, POPULATION, default_space, tune


def measure(data, population, trials, epochs, workers, backend):
    """Wall seconds of one search, and its rows."""
    with tempfile.TemporaryDirectory() as out:
        t0 = time.perf_counter()
        rows = tune(default_space(), data.X_train, data.Y_train, out, trials=trials, workers=workers,
                    epochs=epochs, backend=backend, device="cpu", population=population)["rows"]
        wall = time.perf_counter() - t0
    if any(r["status"] == "failed" for r in rows):
        raise SystemExit(f"a trial failed: {[r['reason'] for r in rows if r['reason']]}")
    return wall, rows


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--epochs", type=int, nargs="+", default=[20, 300])
    p.add_argument("--trials", type=int, nargs="+", default=[32, 12],
                   help="trials of the search at each --epochs value")
    p.add_argument("--population", type=int, default=POPULATION, help="K, the populations' cap")
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--repeat", type=int, default=1)
    p.add_argument("--backend", choices=BACKENDS, default="local")
    p.add_argument("--data-dir")
    args = p.parse_args()
    if len(args.trials) != len(args.epochs):
        p.error("give one --trials value per --epochs value")
    data = load_signs(args.data_dir)
    load_before = os.getloadavg()[0]  # other processes share these CPUs: say how busy they were
    results = []
    for epochs, trials in zip(args.epochs, args.trials):
        walls, rows = {1: [], args.population: []}, {}
        for _ in range(args.repeat):
            for k in walls:
                wall, rows[k] = measure(data, k, trials, epochs, args.workers, args.backend)
                walls[k].append(wall)
        rate = {k: 60 * trials / min(w) for k, w in walls.items()}
        diff = max(abs(a["final_cost"] - b["final_cost"]) for a, b in zip(rows[1], rows[args.population])
                   if a["status"] == b["status"] == "ok")
        results.append({"epochs": epochs, "trials": trials,
                        "walls_s": {str(k): [round(x, 2) for x in w] for k, w in walls.items()},
                        "trials_per_min_one_by_one": round(rate[1], 2),
                        "trials_per_min_populations": round(rate[args.population], 2),
                        "ratio": round(rate[args.population] / rate[1], 2),
                        "max_final_cost_difference": diff})
    print(f"default space, seed 0, population cap {args.population}, {args.workers} worker(s), "
          f"{args.backend} backend, {os.cpu_count()} CPUs, {args.repeat} repeat(s); load average "
          f"{load_before:.2f} before / {os.getloadavg()[0]:.2f} after")
    print(f"{'epochs':>6} {'trials':>6} {'trials/min one by one':>21} {'as populations':>14} "
          f"{'ratio':>6}  max |final cost diff|")
    for r in results:
        print(f"{r['epochs']:>6} {r['trials']:>6} {r['trials_per_min_one_by_one']:>21.2f} "
              f"{r['trials_per_min_populations']:>14.2f} {r['ratio']:>6.2f}  "
              f"{r['max_final_cost_difference']:.1e}")
    print(json.dumps({"benchmark": "search_speed", "population": args.population,
                      "workers": args.workers, "backend": args.backend, "cpus": os.cpu_count(),
                      "repeat": args.repeat, "load_before": round(load_before, 2),
                      "load_after": round(os.getloadavg()[0], 2), "results": results}))


if __name__ == "__main__":  # required: worker processes are spawned and re-import this file
    main()
