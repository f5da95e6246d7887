"""The ``skdann`` command line: ``skdann demo [options]``."""

import argparse

from . import __version__, demo


def main(argv=None):
    """Entry point of the ``skdann`` console script."""
    parser = argparse.ArgumentParser(
        prog="skdann", description="Domain-adversarial neural networks for scikit-learn."
    )
    parser.add_argument("--version", action="version", version=f"skdann {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    demo.build_parser(commands.add_parser("demo", help="run the MNIST -> optdigits demo"))
    args = parser.parse_args(argv)
    if args.command == "demo":
        demo.main(args=args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
