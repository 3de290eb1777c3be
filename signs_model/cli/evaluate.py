"""``signs evaluate``: score a trained run on a labelled folder of photos."""
import json
import sys

from ..evaluate import evaluate_photos, format_confusion
from ..images import RULE
from .args import add_checkpoint_arg, add_device_arg, add_setting_args

SHOWN = 10  # wrong photos listed in the text output


def run(args):
    result = evaluate_photos(args.run, args.photos, args.batch_size, args.device, args.checkpoint)
    for path in result["skipped"]:
        print(f"signs: warning: {path}: no label, skipped; expected photos {RULE}", file=sys.stderr)
    for r in result["unreadable"]:
        print(f"signs: error: {r['error']}", file=sys.stderr)
    if args.json:
        print(json.dumps(result))
    else:
        left_out = [f"{len(result[k])} {what}" for k, what in (
            ("unreadable", "unreadable left out"), ("skipped", "without a label skipped"))
            if result[k]]
        print(f"{args.photos}: accuracy {result['accuracy']:.3f} ({result['correct']} of "
              f"{result['n']} photos right" + "".join(f"; {x}" for x in left_out) + ")")
        print(format_confusion(result["confusion"]))
        wrong = result["wrong"]
        if wrong:
            print(f"wrong: {len(wrong)}, most confident first"
                  + (f" (the first {SHOWN}; all with --json)" if len(wrong) > SHOWN else "") + ":")
        for w in wrong[:SHOWN]:
            print(f"  {w['image']}: true {w['true']}, predicted {w['predicted']} "
                  f"(p={w['confidence']:.3f})")
        print(f"confusion matrix: {result['confusion_png']}")
        print(f"wrong photos: {result['wrong_png']}")
    return 1 if result["unreadable"] else 0


def add_parser(sub):
    p = sub.add_parser("evaluate", help="accuracy, confusion matrix and wrong photos of a run "
                       "on a labelled folder of photos")
    p.add_argument("--run", required=True, metavar="RUN_DIR", help="a finished run folder")
    p.add_argument("--photos", required=True, metavar="DIR",
                   help="photos in class folders 0/ ... 5/, or named <digit>_*.jpg (3_hand.jpg; "
                   "photos without such a label, IMG_0004.jpg, are skipped and named); figures "
                   "go to RUN_DIR/evaluate-<DIR's name>-{confusion,wrong}.png")
    add_checkpoint_arg(p)
    p.add_argument("--json", action="store_true", help="one JSON object")
    add_setting_args(p, "batch_size")
    add_device_arg(p)
    p.set_defaults(func=run)
