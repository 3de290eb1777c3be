"""Does dev accuracy predict test accuracy better when the dev split keeps near-duplicates together?

The trials of a random search (the default space, ``search.sample_trials``)
are each trained twice, with the same configuration and seeds: once on the
train part of the plain stratified random split (``data.dev_split(...,
group_near_duplicates=False)``), once on the train part of the split that keeps
near-duplicate photos on one side (``data.dev_split``, the default), same
fraction and seed. Each run reports its dev and test accuracy. Per split, over
the trials that finished: the Pearson and Spearman correlation of dev with test
accuracy, the mean dev - test gap, the test accuracy of the trial a search
would pick (best dev accuracy), and how many near-duplicate pairs
(``data.near_duplicate_pairs``) have one photo in train and the other in dev
(and in the test set). The two runs of a trial follow each other, so a load
spike from other processes hits both splits alike.

    .venv/bin/python benchmarks/dev_split.py [--trials 16] [--epochs 200]

Prints a line per trial, a summary table, then one JSON line with the figures.
"""
import argparse
import json
import math
import os
import time

import numpy as np
from scipy import stats

import signs_model  # noqa: F401  (configures TensorFlow)
from signs_model import data, train
from signs_model.config import TrainConfig
from signs_model.hparams import config_changes
from signs_model.results import attempt
from signs_model.search import default_space, sample_trials

SPLITS = {"random": False, "near_duplicates_together": True}  # name -> group_near_duplicates


def crossing_pairs(X_a, X_b):
    """Near-duplicate pairs with one photo in X_a and the other in X_b."""
    pairs = data.near_duplicate_pairs(np.hstack([X_a, X_b]))
    m_a = X_a.shape[1]
    return int(((pairs[:, 0] < m_a) & (pairs[:, 1] >= m_a)).sum())


def summary(rows, split):
    """The figures of one split over its finished trials."""
    ok = [r for r in rows if r["split"] == split and r["status"] == "ok"]
    dev = np.array([r["dev_accuracy"] for r in ok])
    test = np.array([r["test_accuracy"] for r in ok])
    picked = ok[int(np.argmax(dev))] if ok else None  # the first of equal bests, as a search would
    return {"trials_ok": len(ok),
            "pearson": round(float(stats.pearsonr(dev, test)[0]), 4) if len(ok) > 2 else math.nan,
            "spearman": round(float(stats.spearmanr(dev, test)[0]), 4) if len(ok) > 2 else math.nan,
            "mean_dev_minus_test": round(float(np.mean(dev - test)), 4) if ok else math.nan,
            "picked_trial": picked["trial"] if ok else None,
            "picked_dev": round(picked["dev_accuracy"], 4) if ok else math.nan,
            "picked_test": round(picked["test_accuracy"], 4) if ok else math.nan,
            "best_test": round(float(test.max()), 4) if ok else math.nan}


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--trials", type=int, default=16)
    p.add_argument("--epochs", type=int, default=200)
    p.add_argument("--dev-fraction", type=float, default=0.2)
    p.add_argument("--seed", type=int, default=0, help="trial sampling and dev split seed")
    p.add_argument("--data-dir")
    args = p.parse_args()
    signs = data.load_signs(args.data_dir)
    splits, pairs = {}, {}
    for name, grouped in SPLITS.items():
        splits[name] = data.dev_split(signs.X_train, signs.Y_train, args.dev_fraction, args.seed,
                                      group_near_duplicates=grouped)
        X_tr, _, X_dev, _ = splits[name]
        pairs[name] = {"train_dev": crossing_pairs(X_tr, X_dev),
                       "train_test": crossing_pairs(X_tr, signs.X_test),
                       "dev_test": crossing_pairs(X_dev, signs.X_test)}
    trials = sample_trials(default_space(), args.trials, args.seed)
    load_before, t0 = os.getloadavg()[0], time.perf_counter()
    rows = []
    for k, params in enumerate(trials):
        cfg = TrainConfig().replace(num_epochs=args.epochs, **config_changes(params))
        for name, (X_tr, Y_tr, X_dev, Y_dev) in splits.items():
            eval_sets = {"dev": (X_dev, Y_dev), "test": (signs.X_test, signs.Y_test)}
            result = attempt(lambda: train.train(cfg, X_tr, Y_tr, eval_sets, engine="fast",
                                                 progress=False, eval_every=0)["metrics"])
            row = {"trial": k, "split": name, **params,
                   **result.row(["dev_accuracy", "test_accuracy"], missing=math.nan)}
            rows.append(row)
            print(f"trial {k:2d} {name:>24}: dev {row['dev_accuracy']:.4f} test "
                  f"{row['test_accuracy']:.4f} ({row['status']}, {row['seconds']:.1f} s)", flush=True)
    wall = time.perf_counter() - t0
    figures = {name: {**summary(rows, name), "near_duplicate_pairs": pairs[name]} for name in SPLITS}
    print(f"\n{args.trials} trials x {args.epochs} epochs x {len(SPLITS)} splits, dev fraction "
          f"{args.dev_fraction}, seed {args.seed}: {wall:.0f} s; load average {load_before:.2f} "
          f"before / {os.getloadavg()[0]:.2f} after")
    print(f"{'split':>24} {'pearson':>8} {'spearman':>8} {'dev-test':>8} {'picked dev/test':>15} "
          f"{'best test':>9} {'train/dev pairs':>15} {'train/test pairs':>16}")
    for name, f in figures.items():
        print(f"{name:>24} {f['pearson']:>8.3f} {f['spearman']:>8.3f} {f['mean_dev_minus_test']:>8.3f} "
              f"{f['picked_dev']:>7.3f}/{f['picked_test']:.3f} {f['best_test']:>9.3f} "
              f"{f['near_duplicate_pairs']['train_dev']:>15} {f['near_duplicate_pairs']['train_test']:>16}")
    print(json.dumps({"benchmark": "dev_split", "trials": args.trials, "epochs": args.epochs,
                      "dev_fraction": args.dev_fraction, "seed": args.seed,
                      "threshold": data.NEAR_DUPLICATE_DISTANCE, "wall_s": round(wall, 1),
                      "load_before": round(load_before, 2), "load_after": round(os.getloadavg()[0], 2),
                      "splits": figures,
                      "runs": [{k: (round(v, 4) if isinstance(v, float) else v) for k, v in r.items()
                                if k != "reason"} for r in rows]}))


if __name__ == "__main__":
    main()
