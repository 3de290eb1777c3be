"""Which recipe reads photos that are not SIGNS: each ingredient alone, then the preset.

Every recipe trains on the whole SIGNS training set (fast engine, seeds 3/1),
then is measured on the SIGNS test set and on a labelled folder of other
people's photos (`signs evaluate`'s code path: the same loading and
preprocessing as `signs predict`). Prints a table, writes it to --out, and
ends with one JSON line.

    python benchmarks/own_photos.py [--photos ../shared/foreign_photos_dev] [--only "course,+ augment"]

Each recipe's row is saved in --out/own_photos.json as it finishes; --only reruns
the recipes it names and keeps the other rows.
"""
import argparse
import json
import os
import shutil
import time
from pathlib import Path

import signs_model  # noqa: F401  (configures TensorFlow)
from signs_model import train
from signs_model.config import PRESETS, TrainConfig
from signs_model.data import load_signs
from signs_model.evaluate import evaluate_photos
from signs_model.atomic import write_json

ROOT = Path(__file__).resolve().parent.parent
PHOTOS = PRESETS["photos"]
ARCHITECTURE = ("conv_channels", "hidden_units", "learning_rate", "num_epochs")

# The preset (two seeds), then the course's model with one ingredient changed.
RECIPES = {
    "preset photos": PHOTOS,
    "preset photos, seeds 4/2": {**PHOTOS, "seed": 4, "tf_seed": 2},
    "course": {},
    "+ standardize": {"preprocess": "standardize"},
    "+ augment": {"augment": True},
    "+ batch norm": {"batch_norm": True},
    "+ L2 0.1": {"l2_lambda": 0.1},
    "+ dropout 0.9": {"keep_prob": 0.9},
    "+ convnet": {k: PHOTOS[k] for k in ARCHITECTURE},
    "+ convnet + standardize": {**{k: PHOTOS[k] for k in ARCHITECTURE}, "preprocess": "standardize"},
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", default=str(ROOT.parent / "shared" / "foreign_photos_dev"),
                        help="labelled photos: class subfolders 0/ ... 5/ or <digit>_*.jpg")
    parser.add_argument("--only", help="comma-separated recipe names (default: all)")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "own_photos"),
                        help="folder for the run folders and the table")
    parser.add_argument("--data-dir")
    args = parser.parse_args()

    names = args.only.split(",") if args.only else list(RECIPES)
    unknown = [n for n in names if n not in RECIPES]
    if unknown:
        parser.error(f"unknown recipe(s) {unknown}; expected some of {list(RECIPES)}")
    data = load_signs(args.data_dir)
    out = Path(args.out)
    saved = out / "own_photos.json"  # rows of earlier runs: --only reruns some, keeps the rest
    rows = json.loads(saved.read_text())["recipes"] if saved.exists() else []
    for name in names:
        cfg = TrainConfig(**RECIPES[name])
        run_dir = out / "".join(c if c.isalnum() else "_" for c in name).strip("_")
        shutil.rmtree(run_dir, ignore_errors=True)  # a rerun replaces the recipe's run
        t0 = time.perf_counter()
        result = train.train(cfg, data.X_train, data.Y_train, {"test": (data.X_test, data.Y_test)},
                             run_dir=run_dir, progress=False, checkpoint_every=0, eval_every=0)
        seconds = time.perf_counter() - t0
        photos = evaluate_photos(run_dir, args.photos)
        rows = [r for r in rows if r["recipe"] != name]
        rows.append({"recipe": name, "changes": cfg_changes(cfg), "epochs": cfg.num_epochs,
                     "test_accuracy": round(result["metrics"]["test_accuracy"], 4),
                     "photos_accuracy": round(photos["accuracy"], 4), "photos": photos["n"],
                     "per_digit": [None if a is None else round(a, 3) for a in photos["per_digit"]],
                     "seconds": round(seconds, 1),
                     "epochs_per_second": result["metrics"]["epochs_per_second"]})
        print(row_text(rows[-1]), flush=True)
        rows.sort(key=lambda r: list(RECIPES).index(r["recipe"]))
        write_json(saved, {"photos": args.photos, "recipes": rows})
    table = markdown(rows, args.photos)
    (out / "own_photos.md").write_text(table)
    print(table)
    print(json.dumps({"photos": args.photos, "recipes": rows}))


def cfg_changes(cfg):
    default = TrainConfig().to_dict()
    return {k: v for k, v in cfg.to_dict().items() if v != default[k]}


def row_text(r):
    return (f"{r['recipe']:15s} test {r['test_accuracy']:.4f} photos {r['photos_accuracy']:.4f} "
            f"per digit {r['per_digit']} {r['seconds']:.0f} s ({r['epochs_per_second']} epochs/s)")


def markdown(rows, photos):
    lines = [f"Photos: {os.path.relpath(photos, ROOT)}\n",
             "| recipe | SIGNS test | other photos | " + " | ".join(f"digit {d}" for d in range(6))
             + " | epochs | training time | epochs/s |",
             "|---|---:|---:|" + "---:|" * 6 + "---:|---:|---:|"]
    for r in rows:
        digits = " | ".join("-" if a is None else f"{a:.2f}" for a in r["per_digit"])
        lines.append(f"| {r['recipe']} | {r['test_accuracy']:.4f} | **{r['photos_accuracy']:.4f}** | "
                     f"{digits} | {r['epochs']} | {r['seconds']:.0f} s | {r['epochs_per_second']} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
