"""Prediction throughput of a trained run: images/s for `signs predict`'s batched path.

Copies the own photos into a temporary folder until there are --images files,
then times Predictor.predict_files (decode + resize + one session run per batch)
against one image per session run. Prints a table and a JSON line.

    python benchmarks/predict_speed.py --run RUN_DIR [--images 1200] [--own-images DIR]
"""
import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

import signs_model  # noqa: F401  (configures TensorFlow)
from signs_model.predict import Predictor

ROOT = Path(__file__).resolve().parent.parent


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", required=True, help="a finished run folder")
    parser.add_argument("--images", type=int, default=1200)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--own-images", default=str(ROOT / "images"),
                        help="folder of .jpg photos to copy (default: the repo's images/)")
    args = parser.parse_args()

    sources = sorted(Path(args.own_images).glob("*.jpg"))
    if not sources:
        sys.exit(f"no .jpg files in {args.own_images}")
    predictor = Predictor(args.run)
    with tempfile.TemporaryDirectory() as tmp:
        paths = []
        for i in range(args.images):
            path = Path(tmp) / f"{i:05d}_{sources[i % len(sources)].name}"
            shutil.copy(sources[i % len(sources)], path)
            paths.append(str(path))
        predictor.predict_files(paths[:8])  # warm-up
        timings = {}
        for name, batch in (("batched", args.batch_size), ("one per run", 1)):
            t0 = time.perf_counter()
            results = predictor.predict_files(paths, batch_size=batch)
            timings[name] = time.perf_counter() - t0
            assert len(results) == len(paths) and all("digit" in r for r in results)
    predictor.close()
    print(f"{'path':12s} {'images':>7s} {'seconds':>8s} {'images/s':>9s}")
    for name, s in timings.items():
        print(f"{name:12s} {args.images:7d} {s:8.2f} {args.images / s:9.0f}")
    print(json.dumps({"images": args.images, "batch_size": args.batch_size,
                      "batched_images_per_s": round(args.images / timings["batched"]),
                      "single_images_per_s": round(args.images / timings["one per run"])}))


if __name__ == "__main__":
    main()
