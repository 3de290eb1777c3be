"""``signs dashboard``: a search's study in the browser (optuna-dashboard)."""
from ..search.dashboard import serve


def run(args):
    serve(args.target, host=args.host, port=args.port,
          on_ready=lambda url: print(f"dashboard of {args.target} on {url} (Ctrl-C to stop)",
                                     flush=True))
    return 0


def add_parser(sub):
    p = sub.add_parser("dashboard", help="show a search's trials in the browser: history, "
                       "parameter importances, the curves of pruned trials")
    p.add_argument("target", metavar="OUT|URL", help="the folder of a search (signs tune --out "
                   "OUT; its study.db is served) or the search's storage URL (postgresql://...)")
    p.add_argument("--port", type=int, default=8080, help="port to listen on (default 8080; "
                   "0 picks a free one)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default "
                   "127.0.0.1, this machine only; 0.0.0.0 for every network)")
    p.set_defaults(func=run)
