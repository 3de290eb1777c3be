"""TPE against the lecture's random sampling, on the same budget, three search seeds each.

Each search samples the default space (learning rate on a log scale, beta1 as
1 - beta1 on a log scale, minibatch size, both hidden layers) for ``--trials``
trials of ``--epochs`` epochs, judged on the dev split of its seed, one worker,
populations of ``--population`` (TPE samples a population's trials together,
so a small population gives it more turns to learn from the finished ones).
A seed fixes the dev split, the random draws and TPE's own generator, so the
two samplers meet on the same split at each seed.

    python benchmarks/search_sampler.py --trials 24 --epochs 40 --seeds 0 1 2

Prints a table (best and mean dev accuracy of the ok trials, minutes), then one JSON line.
"""
import argparse
import json
import os
import statistics
import tempfile
import time

from signs_model.data import load_signs
from signs_model.search import default_space, tune


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--trials", type=int, default=24)
    p.add_argument("--epochs", type=int, default=40)
    p.add_argument("--population", type=int, default=4)
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--data-dir")
    args = p.parse_args()
    data = load_signs(args.data_dir)
    load_before, results = os.getloadavg()[0], []
    for seed in args.seeds:
        for sampler in ("random", "tpe"):
            with tempfile.TemporaryDirectory() as out:
                t0 = time.perf_counter()
                rows = tune(default_space(), data.X_train, data.Y_train, out, trials=args.trials,
                            epochs=args.epochs, seed=seed, sampler=sampler, device="cpu",
                            population=args.population)["rows"]
                minutes = (time.perf_counter() - t0) / 60
            dev = [r["dev_accuracy"] for r in rows if r["status"] == "ok"]
            results.append({"sampler": sampler, "seed": seed, "best_dev": round(max(dev), 4),
                            "mean_dev": round(statistics.mean(dev), 4), "ok": len(dev),
                            "minutes": round(minutes, 2)})
            print(json.dumps(results[-1]), flush=True)
    print(f"default space, {args.trials} trials x {args.epochs} epochs, population "
          f"{args.population}, 1 worker, {os.cpu_count()} CPUs; load average {load_before:.2f} "
          f"before / {os.getloadavg()[0]:.2f} after")
    print(f"{'sampler':>7} {'seed':>4} {'best dev':>8} {'mean dev':>8} {'ok':>3} {'min':>5}")
    for r in results:
        print(f"{r['sampler']:>7} {r['seed']:>4} {r['best_dev']:>8.4f} {r['mean_dev']:>8.4f} "
              f"{r['ok']:>3} {r['minutes']:>5.1f}")
    for sampler in ("random", "tpe"):
        best = [r["best_dev"] for r in results if r["sampler"] == sampler]
        print(f"{sampler:>7} median best dev {statistics.median(best):.4f}")
    print(json.dumps({"benchmark": "search_sampler", "trials": args.trials, "epochs": args.epochs,
                      "population": args.population, "results": results}))


if __name__ == "__main__":
    main()
