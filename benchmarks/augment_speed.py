"""What augmentation costs the fast engine: epochs/s with and without it, in one process.

For the course's network and for the photos preset's ConvNet, trains the same
configuration with augment off and on, alternating, --repeats times each, and
reports the median epochs/s of each and their ratio (a ratio measured in one
run holds on a loaded machine too). Prints a table and one JSON line.

    python benchmarks/augment_speed.py [--epochs 100] [--conv-epochs 5] [--repeats 3]
"""
import argparse
import json
import statistics

import signs_model  # noqa: F401  (configures TensorFlow)
from signs_model import train
from signs_model.config import PRESETS, TrainConfig
from signs_model.data import load_signs


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=100, help="epochs per course-network run")
    parser.add_argument("--conv-epochs", type=int, default=5, help="epochs per ConvNet run")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--engine", default="fast")
    args = parser.parse_args()

    data = load_signs()
    networks = {"course network": TrainConfig(num_epochs=args.epochs),
                "photos ConvNet": TrainConfig(**{**PRESETS["photos"], "augment": False,
                                                 "num_epochs": args.conv_epochs})}
    rows = []
    for name, cfg in networks.items():
        rates = {False: [], True: []}
        for _ in range(args.repeats):
            for augment in (False, True):
                result = train.train(cfg.replace(augment=augment), data.X_train, data.Y_train,
                                     engine=args.engine, progress=False)
                rates[augment].append(result["metrics"]["epochs_per_second"])
        off, on = statistics.median(rates[False]), statistics.median(rates[True])
        rows.append({"network": name, "engine": args.engine, "epochs": cfg.num_epochs,
                     "epochs_per_s_plain": off, "epochs_per_s_augmented": on,
                     "slowdown": round(off / on, 3)})
    print(f"{'network':16s} {'plain epochs/s':>15s} {'augmented':>10s} {'slowdown':>9s}")
    for r in rows:
        print(f"{r['network']:16s} {r['epochs_per_s_plain']:15.2f} {r['epochs_per_s_augmented']:10.2f} "
              f"{r['slowdown']:9.2f}x")
    print(json.dumps({"repeats": args.repeats, "rows": rows}))


if __name__ == "__main__":
    main()
