"""One search on a PostgreSQL study: one `signs tune` process against two at once (trials/min).

Starts a throwaway PostgreSQL 15 server (``tests/postgres.py``), then runs the
same search (default space, ``--trials`` trials of ``--epochs`` epochs, one
worker per process, one graph per trial) as one process, then as two
processes started together on one study (each its own ``--out``, as two
machines would), and times each from start to the last process's exit: the
processes' start-up (TensorFlow, the data, the study) is part of the price.
On one 2-core machine the two processes share the cores, so this measures
the study's overhead and the scaling of a shared search, not a second machine.

    python benchmarks/search_shared.py --trials 12 --epochs 20

Prints a table, then one JSON line.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
import postgres  # noqa: E402  (the tests' throwaway server)


def search(server, name, processes, args, folder):
    cmd = [sys.executable, "-m", "signs_model.cli", "tune", "--storage", server.url, "--study", name,
           "--trials", str(args.trials), "--epochs", str(args.epochs), "--workers", "1",
           "--population", str(args.population), "--device", "cpu"]
    t0 = time.perf_counter()
    procs = [subprocess.Popen(cmd + ["--out", str(folder / f"{name}-{i}")], stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True) for i in range(processes)]
    for proc in procs:
        _, err = proc.communicate()
        if proc.returncode:
            raise SystemExit(f"signs tune failed: {err[-2000:]}")
    return time.perf_counter() - t0


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--trials", type=int, default=12)
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--population", type=int, default=1)
    args = p.parse_args()
    why = postgres.available()
    if why:
        raise SystemExit(why)
    server = postgres.start()
    load_before = os.getloadavg()[0]
    try:
        with tempfile.TemporaryDirectory() as folder:
            one = search(server, "one", 1, args, Path(folder))
            two = search(server, "two", 2, args, Path(folder))
    finally:
        server.stop()
    rates = {"one process": 60 * args.trials / one, "two processes": 60 * args.trials / two}
    print(f"default space, {args.trials} trials x {args.epochs} epochs, population {args.population}, "
          f"1 worker per process, {os.cpu_count()} CPUs; load average {load_before:.2f} before / "
          f"{os.getloadavg()[0]:.2f} after")
    for what, rate in rates.items():
        print(f"{what:>14}: {rate:6.2f} trials/min")
    print(json.dumps({"benchmark": "search_shared", "trials": args.trials, "epochs": args.epochs,
                      "population": args.population, "wall_s": {"one": round(one, 1),
                                                                "two": round(two, 1)},
                      "trials_per_min": {k: round(v, 2) for k, v in rates.items()}}))


if __name__ == "__main__":
    main()
