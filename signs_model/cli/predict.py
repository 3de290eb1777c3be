"""``signs predict``: classify your own photos with a trained run."""
import json
import sys

from ..predict import Predictor
from ..settings import check
from .args import add_checkpoint_arg, add_device_arg, add_setting_args


def run(args):
    check("batch_size", args.batch_size)
    predictor = Predictor(args.run, args.device, args.checkpoint)
    failed = 0
    try:
        for r in predictor.predict_files(args.images, args.batch_size):
            if "error" in r:
                failed += 1
                print(f"signs: error: {r['error']}", file=sys.stderr)
            if args.json:
                print(json.dumps(r))
            elif "error" not in r:
                print(f"{r['image']}: {r['digit']} (p={r['probabilities'][r['digit']]:.3f})")
    finally:
        predictor.close()
    return 1 if failed else 0


def add_parser(sub):
    p = sub.add_parser("predict", help="classify your own photos with a trained run")
    p.add_argument("--run", required=True, metavar="RUN_DIR", help="a finished run folder")
    p.add_argument("images", nargs="+", metavar="IMAGE")
    add_checkpoint_arg(p)
    p.add_argument("--json", action="store_true", help="one JSON object per line")
    add_setting_args(p, "batch_size")
    add_device_arg(p)
    p.set_defaults(func=run)
