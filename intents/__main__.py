"""`python -m intents classify "楼上天天装修，吵死了"` prints the ranked intents as JSON."""

from __future__ import annotations

import argparse
import json
import sys

from intents.cli import run
from intents.engine import Engine


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m intents")
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("classify", help="classify one message")
    c.add_argument("text", nargs="?", help="the message (read from stdin when omitted)")
    c.add_argument("--model", help="a trained model (.json) or a taxonomy (.toml); default the shipped one")
    args = ap.parse_args(argv)
    text = args.text if args.text is not None else sys.stdin.read()
    result = Engine.from_file(args.model).classify(text)
    print(json.dumps(result.to_json(), ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(run(main))
