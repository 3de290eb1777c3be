"""Course loop (feed_dict per minibatch) vs the fast engine (whole epochs in the graph), in one process.

Prints a table (seconds, steps/s, epochs/s, peak RSS) and, as its last line,
one JSON object with epochs, feed_dict_s, fast_s, speedup, max_cost_diff and
blas_floor_s: the time NumPy's BLAS takes for the same forward and backward
products of the 12288x25 layer (Z1 = W1 X, dW1 = dZ1 X^T) over the same number
of minibatch steps, the physical reference for the fast engine.

    python benchmarks/train_speed.py --epochs 1500 [--data-dir DIR] [--device cpu|gpu]
"""
import argparse
import json
import math
import os
import platform
import sys
import threading
import time

import numpy as np
from threadpoolctl import threadpool_limits

import signs_model  # noqa: F401  (configures TensorFlow)
from signs_model import data, devices, train
from signs_model.config import TrainConfig


class PeakRSS:
    """Highest resident set size of this process while the block runs (sampled every 20 ms)."""

    def __enter__(self):
        self.peak, self._stop = 0, threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self):
        page = os.sysconf("SC_PAGE_SIZE")
        while not self._stop.is_set():
            with open("/proc/self/statm") as f:
                self.peak = max(self.peak, int(f.read().split()[1]) * page)
            self._stop.wait(0.02)

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def blas_floor(X, steps, minibatch_size, n_h=25, seed=0):
    """Seconds NumPy needs for Z1 = W1 Xb and dW1 = dZ1 Xb^T, ``steps`` times, minibatches cut as in training.

    The minibatch is kept with examples in rows (its fastest layout for BLAS),
    so this is the best case for those two products.
    """
    rng = np.random.RandomState(seed)
    n_x, m = X.shape
    X_rows = np.ascontiguousarray(X.T, dtype=np.float32)
    W1 = rng.randn(n_h, n_x).astype(np.float32)
    batches = [X_rows[k:k + minibatch_size] for k in range(0, m, minibatch_size)]
    dZ = {len(b): rng.randn(n_h, len(b)).astype(np.float32) for b in batches}
    t0 = time.perf_counter()
    for step in range(steps):
        Xb = batches[step % len(batches)]
        W1 @ Xb.T          # forward
        dZ[len(Xb)] @ Xb   # backward, weight gradient
    return time.perf_counter() - t0


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=1500)
    parser.add_argument("--data-dir")
    parser.add_argument("--device", default="auto", choices=("auto", "cpu", "gpu"))
    parser.add_argument("--minibatch-size", type=int, default=32)
    args = parser.parse_args()

    train_x, train_y, _, _, classes = data.load_dataset(args.data_dir)
    # The course's preparation: float64 pixels / 255, one-hot labels.
    X = train_x.reshape(train_x.shape[0], -1).T / 255.0
    Y = data.convert_to_one_hot(train_y, classes.size)
    cfg = TrainConfig(num_epochs=args.epochs, minibatch_size=args.minibatch_size)
    steps = args.epochs * math.ceil(X.shape[1] / cfg.minibatch_size)

    # Before any session exists (TensorFlow's idle worker threads would compete
    # with BLAS), and the faster of one BLAS thread and one per core.
    floors = {}
    for n in sorted({1, os.cpu_count()}):
        with threadpool_limits(limits=n, user_api="blas"):
            floors[n] = blas_floor(X, steps, cfg.minibatch_size)
    floor = min(floors.values())
    rows, results = [], {}
    for engine in ("feed", "fast"):
        with PeakRSS() as rss:
            t0 = time.perf_counter()
            results[engine] = train.train(cfg, X, Y, {"train": (X, Y)}, engine=engine,
                                          device=args.device, progress=False, eval_every=0)
            seconds = time.perf_counter() - t0
        rows.append((engine, seconds, steps / seconds, args.epochs / seconds, rss.peak / 2**20,
                     results[engine]["metrics"]["train_accuracy"]))
    rows.append(("numpy BLAS floor", floor, steps / floor, args.epochs / floor, float("nan"),
                 float("nan")))

    print(f"{args.epochs} epochs, {steps} steps, minibatch {cfg.minibatch_size}, "
          f"device {devices.describe(args.device)}, {os.cpu_count()} CPUs, {platform.processor()}")
    print(f"{'path':18s} {'seconds':>9s} {'steps/s':>9s} {'epochs/s':>9s} {'peak RSS MB':>12s} "
          f"{'train acc':>9s}")
    for name, s, sps, eps, rss_mb, acc in rows:
        print(f"{name:18s} {s:9.2f} {sps:9.1f} {eps:9.2f} {rss_mb:12.0f} {acc:9.6f}")
    diff = float(np.max(np.abs(np.subtract(results["feed"]["costs"], results["fast"]["costs"]))))
    summary = {
        "epochs": args.epochs, "steps": steps, "device": devices.describe(args.device),
        "feed_dict_s": round(rows[0][1], 2), "fast_s": round(rows[1][1], 2),
        "speedup": round(rows[0][1] / rows[1][1], 2), "max_cost_diff": diff,
        "same_accuracy": rows[0][5] == rows[1][5], "blas_floor_s": round(floor, 2),
        "fast_over_floor": round(rows[1][1] / floor, 2),
        "blas_floor_by_threads": {n: round(s, 2) for n, s in floors.items()},
        "final_cost": results["fast"]["costs"][-1],
    }
    print(json.dumps(summary))
    return 0 if diff <= 1e-5 and summary["same_accuracy"] else 1


if __name__ == "__main__":
    sys.exit(main())
