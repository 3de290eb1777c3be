"""``signs demo``: a local web page that reads your hand sign with a trained run."""
from ..predict import Predictor
from .args import add_device_arg


def run(args):
    predictor = Predictor(args.run, args.device)  # a bad run: one line, exit 2, no server started
    from .. import demo  # Gradio loads for this command only

    page = demo.build(predictor)
    try:
        url = demo.serve(page, args.host, args.port)
        print(f"signs demo: {args.run} on {url} (Ctrl-C stops)", flush=True)
        page.block_thread()
    finally:
        page.close()
        predictor.close()


def add_parser(sub):
    p = sub.add_parser("demo", help="a web page that reads your hand sign (upload or webcam)")
    p.add_argument("--run", required=True, metavar="RUN_DIR", help="a finished run folder")
    p.add_argument("--host", help="interface to listen on (default 127.0.0.1: this machine "
                   "only; 0.0.0.0: every one)")
    p.add_argument("--port", type=int, help="TCP port (default: the first free one from 7860)")
    add_device_arg(p)
    p.set_defaults(func=run)
