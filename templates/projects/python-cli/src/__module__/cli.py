"""The command line of the {{module}} package."""

import argparse
import sys
from importlib import metadata

from . import __version__


def description() -> str:
    """The package's one-line summary, from its metadata (pyproject.toml)."""
    try:
        return metadata.metadata("{{slug}}")["Summary"] or ""
    except metadata.PackageNotFoundError:
        return ""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="{{slug}}",
        description=description(),
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("name", nargs="?", default="world", help="who to greet")
    return parser


def greeting(name: str) -> str:
    """The text printed for NAME."""
    return f"Hello, {name}!"


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    print(greeting(args.name))
    return 0


if __name__ == "__main__":
    sys.exit(main())
