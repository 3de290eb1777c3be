"""The photos preset over three seeds, alone, averaged (an ensemble) and with flip test-time augmentation.

Trains ``signs train --preset photos`` (or the preset with --changes) with each
seed pair on the SIGNS training set minus a 20 % dev split (near-duplicate
aware, seed 0), then measures each model, the mean of the three models'
probabilities, and each model with its probabilities averaged over the photo
and its mirror image, on the dev split, the SIGNS test set and a labelled photo
folder (read by ``predict.photo_input``, as ``signs predict`` reads photos).
Measures only: the photo folder is never trained on. Prints one JSON line per
model and one per combination, and appends them to --log.

    python benchmarks/photos_seeds.py --photos ../shared/foreign_photos_dev --name preset
    # on a shared machine, one core: taskset -c 1 python benchmarks/photos_seeds.py --threads 1 ...
"""
import argparse
import json
import time
from pathlib import Path

import numpy as np

import signs_model  # noqa: F401  (configures TensorFlow)
from signs_model import train
from signs_model.config import PRESETS, TrainConfig
from signs_model.data import IMAGE_SHAPE, dev_split, load_signs
from signs_model.images import labelled_images
from signs_model.predict import Predictor, photo_input

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ((3, 1), (4, 2), (5, 3))  # (seed, tf_seed): the course's first, then the next two


def mirrored(X):
    """Each (12288,) column of X mirrored left to right (the other hand)."""
    images = X.T.reshape(-1, *IMAGE_SHAPE)[:, :, ::-1, :]
    return images.reshape(X.shape[1], -1).T.copy()


def accuracy(probabilities, labels):
    return round(float(np.mean(np.argmax(probabilities, axis=0) == labels)), 4)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", default=str(ROOT.parent / "shared" / "foreign_photos_dev"))
    parser.add_argument("--name", default="preset", help="the recipe's name in the log")
    parser.add_argument("--changes", default="{}", help="JSON: hyperparameters over the preset")
    parser.add_argument("--out", default="/tmp/photos_seeds", help="folder for the run folders")
    parser.add_argument("--seeds", default=",".join(f"{s}/{t}" for s, t in SEEDS),
                        help="seed pairs SEED/TF_SEED, comma separated (default: %(default)s)")
    parser.add_argument("--threads", type=int, default=None,
                        help="TensorFlow threads (default: one per core)")
    parser.add_argument("--log", default=str(ROOT / "benchmarks" / "results" / "own_photos"
                                             / "seeds.jsonl"))
    args = parser.parse_args()

    data = load_signs()
    X_train, Y_train, X_dev, Y_dev = dev_split(data.X_train, data.Y_train, 0.2, seed=0)
    dev_labels = np.argmax(Y_dev, axis=0)
    items = labelled_images(args.photos)
    X_photos = np.hstack([photo_input(path) for path, _ in items])
    photo_labels = np.array([label for _, label in items])
    sets = {"dev": (X_dev, dev_labels), "test": (data.X_test, data.y_test.ravel()),
            "foreign": (X_photos, photo_labels)}

    seeds = [tuple(int(v) for v in pair.split("/")) for pair in args.seeds.split(",")]
    rows, probs = [], {}
    for seed, tf_seed in seeds:
        cfg = TrainConfig(**{**PRESETS["photos"], **json.loads(args.changes),
                             "seed": seed, "tf_seed": tf_seed})
        run_dir = Path(args.out) / f"{args.name}-{seed}-{tf_seed}"
        t0 = time.perf_counter()
        train.train(cfg, X_train, Y_train, run_dir=run_dir, progress=False, checkpoint_every=0,
                    eval_every=0, threads=args.threads)
        seconds = round(time.perf_counter() - t0, 1)
        predictor = Predictor(run_dir)
        for name, (X, _) in sets.items():
            probs[seed, name] = predictor.probabilities_of(X)
            probs[seed, name, "flip"] = (probs[seed, name] + predictor.probabilities_of(mirrored(X))) / 2
        predictor.close()
        rows.append({"recipe": args.name, "seeds": [seed, tf_seed], "seconds": seconds,
                     "threads": args.threads,
                     **{name: accuracy(probs[seed, name], y) for name, (_, y) in sets.items()},
                     **{f"{name}_flip": accuracy(probs[seed, name, "flip"], y)
                        for name, (_, y) in sets.items()}})
        print(json.dumps(rows[-1]), flush=True)
    if len(seeds) > 1:
        rows.append({"recipe": f"{args.name}, mean of the {len(seeds)} seeds' probabilities",
                     **{name: accuracy(sum(probs[s, name] for s, _ in seeds), y)
                        for name, (_, y) in sets.items()},
                     **{f"{name}_flip": accuracy(sum(probs[s, name, "flip"] for s, _ in seeds), y)
                        for name, (_, y) in sets.items()}})
        print(json.dumps(rows[-1]), flush=True)
    with open(args.log, "a") as f:
        for row in rows:
            f.write(json.dumps({**row, "changes": json.loads(args.changes)}) + "\n")


if __name__ == "__main__":
    main()
