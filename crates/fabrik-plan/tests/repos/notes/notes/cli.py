"""Command line: `notes add TEXT`, `notes list`."""

from __future__ import annotations

import argparse
import sys

from notes.storage import NoteStore


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="notes")
    sub = parser.add_subparsers(dest="command", required=True)
    add = sub.add_parser("add", help="add a note")
    add.add_argument("text")
    sub.add_parser("list", help="list notes")
    return parser


def cmd_add(store: NoteStore, args: argparse.Namespace) -> int:
    store.add(args.text)
    return 0


def cmd_list(store: NoteStore, args: argparse.Namespace) -> int:
    for i, note in enumerate(store.all(), start=1):
        print(f"{i}. {note}")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    store = NoteStore()
    handlers = {"add": cmd_add, "list": cmd_list}
    return handlers[args.command](store, args)


if __name__ == "__main__":
    sys.exit(main())
