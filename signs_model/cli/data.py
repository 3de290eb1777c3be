"""``signs data info|build``: inspect the SIGNS h5 files, or build them from photos."""
import json
import sys

from .. import data
from ..images import RULE
from .args import add_data_arg, add_setting_args


def info(args):
    found = data.data_info(args.data_dir)
    if args.json:
        print(json.dumps(found, indent=2))
        return
    print(f"data folder: {found['data_dir']}   classes: {found['classes']}")
    for split in ("train", "test"):
        s = found[split]
        print(f"{split:5s} {s['file']}: x {tuple(s['x_shape'])}, y {tuple(s['y_shape'])}, "
              f"per class {s['per_class']}")


def build(args):
    out = data.build_dataset(args.source, args.out, args.test_fraction, args.seed)
    for path in out["skipped"]:
        print(f"signs: warning: {path}: no label, left out; expected photos {RULE}",
              file=sys.stderr)
    print(f"wrote {out['out_dir']}/train_signs.h5 ({out['train']} images) and "
          f"test_signs.h5 ({out['test']} images), classes {out['classes']}")


def add_parser(sub):
    p = sub.add_parser("data", help="inspect or build the SIGNS h5 files")
    data_sub = p.add_subparsers(dest="data_command", required=True)
    q = data_sub.add_parser("info", help="shapes and counts per class")
    add_data_arg(q)
    q.add_argument("--json", action="store_true")
    q.set_defaults(func=info)
    q = data_sub.add_parser("build", help="write the course h5 pair from a folder of photos")
    q.add_argument("--from", dest="source", required=True, metavar="FOLDER",
                   help="photos named <digit>_*.jpg (3_hand.jpg), or in class subfolders "
                   "0/ ... 5/; photos without such a label are left out and named")
    q.add_argument("--out", required=True, metavar="DIR")
    add_setting_args(q, "test_fraction")
    q.add_argument("--seed", type=int, default=0)
    q.set_defaults(func=build)
