"""Does dev accuracy predict test accuracy better when the dev split keeps near-duplicates together?

The trials of a random search (the default space, ``search.sample_trials``)
are each trained twice, with the same configuration and seeds: once on the
train part of the plain stratified random split (``data.dev_split(...,
group_near_duplicates=False)``), once on the train part of the split that keeps
near-duplicate photos on one side (``data.dev_split``, the default), same
fraction and seed. Each run reports its accuracy on dev, on the test set and
on "test_new": the test photos with no near-duplicate in that split's train
part (the test set shares bursts with the training set). Per split, over the
trials that finished: the Pearson and Spearman correlation of dev accuracy with
test (and test_new) accuracy and the mean gap, the same over the trials above
chance, the trial a search would pick (best dev accuracy), and how many
near-duplicate pairs (``data.near_duplicate_pairs``) have one photo in train and
the other in dev or test. The two runs of a trial follow each other, so a load
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

from signs_model import data, train
from signs_model.config import TrainConfig
from signs_model.search.space import config_changes
from signs_model.search.results import attempt
from signs_model.search import default_space, sample_trials

SPLITS = {"random": False, "near_duplicates_together": True}  # name -> group_near_duplicates


def crossing_pairs(X_a, X_b):
    """Near-duplicate pairs (i, j) with photo i of X_a and photo j of X_b."""
    pairs = data.near_duplicate_pairs(np.hstack([X_a, X_b]))
    m_a = X_a.shape[1]
    pairs = pairs[(pairs[:, 0] < m_a) & (pairs[:, 1] >= m_a)]
    return np.stack([pairs[:, 0], pairs[:, 1] - m_a], axis=1)


def agreement(dev, test):
    """How well dev accuracy tracks test accuracy over some trials."""
    if len(dev) < 3:
        return {"trials": len(dev), "pearson": math.nan, "spearman": math.nan,
                "mean_dev_minus_test": math.nan}
    return {"trials": len(dev), "pearson": round(float(stats.pearsonr(dev, test)[0]), 4),
            "spearman": round(float(stats.spearmanr(dev, test)[0]), 4),
            "mean_dev_minus_test": round(float(np.mean(dev - test)), 4)}


def summary(rows, split, m_dev, classes):
    """The figures of one split over its finished trials.

    "above chance": dev accuracy more than two standard errors of a guesser above
    1/classes (dead networks predict one class and score 1/classes exactly).
    """
    ok = [r for r in rows if r["split"] == split and r["status"] == "ok"]
    dev, test, new = (np.array([r[k] for r in ok]) for k in ("dev_accuracy", "test_accuracy",
                                                              "test_new_accuracy"))
    chance = 1 / classes
    above = dev > chance + 2 * math.sqrt(chance * (1 - chance) / m_dev)
    picked = ok[int(np.argmax(dev))] if ok else {}  # the first of equal bests, as a search would
    return {"trials_ok": len(ok), "test": agreement(dev, test), "test_new": agreement(dev, new),
            "test_above_chance": agreement(dev[above], test[above]),
            "picked": {k: picked.get(k) for k in ("trial", "dev_accuracy", "test_accuracy",
                                                  "test_new_accuracy")},
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
        X_tr, Y_tr, X_dev, Y_dev = data.dev_split(signs.X_train, signs.Y_train, args.dev_fraction,
                                                  args.seed, group_near_duplicates=grouped)
        twinned = np.zeros(signs.X_test.shape[1], dtype=bool)
        twinned[crossing_pairs(X_tr, signs.X_test)[:, 1]] = True
        splits[name] = {"dev": (X_dev, Y_dev), "test": (signs.X_test, signs.Y_test),
                        "test_new": (signs.X_test[:, ~twinned], signs.Y_test[:, ~twinned])}, X_tr, Y_tr
        pairs[name] = {"train_dev": len(crossing_pairs(X_tr, X_dev)),
                       "train_test": len(crossing_pairs(X_tr, signs.X_test)),
                       "dev_test": len(crossing_pairs(X_dev, signs.X_test)),
                       "test_photos_with_a_train_twin": int(twinned.sum())}
    trials = sample_trials(default_space(), args.trials, args.seed)
    load_before, t0 = os.getloadavg()[0], time.perf_counter()
    rows = []
    for k, params in enumerate(trials):
        cfg = TrainConfig().replace(num_epochs=args.epochs, **config_changes(params))
        for name, (eval_sets, X_tr, Y_tr) in splits.items():
            result = attempt(lambda: train.train(cfg, X_tr, Y_tr, eval_sets, engine="fast",
                                                 progress=False, eval_every=0)["metrics"])
            row = {"trial": k, "split": name, **params,
                   **result.row([f"{s}_accuracy" for s in eval_sets], missing=math.nan)}
            rows.append(row)
            print(f"trial {k:2d} {name:>24}: dev {row['dev_accuracy']:.4f} test "
                  f"{row['test_accuracy']:.4f} test_new {row['test_new_accuracy']:.4f} "
                  f"({row['status']}, {row['seconds']:.1f} s)", flush=True)
    wall = time.perf_counter() - t0
    figures = {name: {**summary(rows, name, splits[name][0]["dev"][0].shape[1], signs.classes.size),
                      "near_duplicate_pairs": pairs[name]} for name in SPLITS}
    print(f"\n{args.trials} trials x {args.epochs} epochs x {len(SPLITS)} splits, dev fraction "
          f"{args.dev_fraction}, seed {args.seed}: {wall:.0f} s; load average {load_before:.2f} "
          f"before / {os.getloadavg()[0]:.2f} after")
    print("test_new: the test photos with no near-duplicate in that split's train part")
    print(f"{'split':>24} {'vs':>17} {'trials':>6} {'pearson':>8} {'spearman':>8} {'dev-test':>8}")
    for name, f in figures.items():
        for vs in ("test", "test_new", "test_above_chance"):
            a = f[vs]
            print(f"{name:>24} {vs:>17} {a['trials']:>6} {a['pearson']:>8.3f} {a['spearman']:>8.3f} "
                  f"{a['mean_dev_minus_test']:>8.3f}")
    for name, f in figures.items():
        print(f"{name}: picks trial {f['picked']['trial']} (dev {f['picked']['dev_accuracy']:.4f}, "
              f"test {f['picked']['test_accuracy']:.4f}); near-duplicate pairs {f['near_duplicate_pairs']}")
    print(json.dumps({"benchmark": "dev_split", "trials": args.trials, "epochs": args.epochs,
                      "dev_fraction": args.dev_fraction, "seed": args.seed,
                      "threshold": data.NEAR_DUPLICATE_DISTANCE, "wall_s": round(wall, 1),
                      "load_before": round(load_before, 2), "load_after": round(os.getloadavg()[0], 2),
                      "splits": figures,
                      "runs": [{k: (round(v, 4) if isinstance(v, float) else v) for k, v in r.items()
                                if k != "reason"} for r in rows]}))

if __name__ == "__main__":
    main()
