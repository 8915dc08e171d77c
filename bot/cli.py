"""The `readgroup` command line (names as in DESIGN.md)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import sys
from collections.abc import Callable

from bot.infra.settings import Settings, SettingsError
from storage.connect import DatabaseUnavailable

log = logging.getLogger("readgroup")

#: Other areas add sub-commands here: (name, add_arguments, run).
EXTRA_COMMANDS: list[
    tuple[
        str,
        str,
        Callable[[argparse.ArgumentParser], None],
        Callable[[argparse.Namespace, Settings], int],
    ]
] = []


class _NoTraceback(logging.Formatter):
    """Terminal logs say what happened in one line; tracebacks stay out of the
    console user's way (use --verbose to see them)."""

    def format(self, record: logging.LogRecord) -> str:
        record.exc_info = None
        record.exc_text = None
        return super().format(record)


def setup_logging(verbose: bool, *, quiet_tracebacks: bool = False) -> None:
    handler = logging.StreamHandler(sys.stderr)
    fmt = "%(asctime)s %(levelname)s %(name)s: %(message)s"
    handler.setFormatter(
        _NoTraceback(fmt) if quiet_tracebacks and not verbose else logging.Formatter(fmt)
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if verbose else logging.WARNING)
    if not verbose:
        for noisy in (
            "arxiv",
            "httpx",
            "urllib3",
            "discord",
            "slack_bolt",
            "slack_sdk",
            "apscheduler",
        ):
            logging.getLogger(noisy).setLevel(logging.WARNING)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="readgroup", description="A Slack and Discord bot that runs an ML reading group."
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True)

    console = sub.add_parser("console", help="run the bot in this terminal (no credentials)")
    console.add_argument("--user", help="who you are (default: your login name)")
    console.add_argument(
        "--not-organizer", action="store_true", help="act as a plain member, not an organizer"
    )

    serve = sub.add_parser("serve", help="connect to Slack or Discord")
    serve.add_argument("platform", choices=["slack", "discord"])
    mode = serve.add_mutually_exclusive_group()
    mode.add_argument("--http", action="store_true", help="Slack: receive events over HTTP")
    mode.add_argument("--socket", action="store_true", help="Slack: Socket Mode")
    serve.add_argument("--port", type=int, default=3000, help="Slack HTTP port (default 3000)")

    db = sub.add_parser("db", help="database maintenance")
    db.add_argument("action", choices=["upgrade"])

    for name, help_text, add_args, _run in EXTRA_COMMANDS:
        add_args(sub.add_parser(name, help=help_text))
    return parser


def _load_extras() -> None:
    """Import the modules that add CLI sub-commands, if present."""
    import importlib

    for module in ("bot.digest.exports", "bot.digest.prompt_check", "adapters.slack.manifest"):
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name != module:
                raise


def main(argv: list[str] | None = None) -> int:
    try:
        _load_extras()
        args = build_parser().parse_args(argv)
        setup_logging(args.verbose, quiet_tracebacks=args.command == "console")
        settings = Settings()
        return _run(args, settings)
    except SettingsError as exc:
        print(f"readgroup: {exc}", file=sys.stderr)
        return 2
    except DatabaseUnavailable as exc:
        print(f"readgroup: cannot start: {exc}", file=sys.stderr)
        return 3
    except KeyboardInterrupt:  # Ctrl-C, at any moment: quit at once, no traceback
        with contextlib.suppress(Exception):
            if sys.stdin.isatty():
                print(file=sys.stderr)  # the shell's prompt starts on a line of its own
        return 130


def _run(args: argparse.Namespace, settings: Settings) -> int:
    if args.command == "console":
        from adapters.console.app import run_console
        from bot.app import build_bot

        return asyncio.run(
            run_console(
                lambda messenger: build_bot(settings, messenger=messenger),
                user=args.user,
                organizer=not args.not_organizer,
            )
        )
    if args.command == "db":
        from bot.app import open_engine

        open_engine(settings).dispose()
        print("database schema is up to date")
        return 0
    if args.command == "serve":
        if args.platform == "slack":
            from adapters.slack.serve import serve_slack  # type: ignore[import-not-found]

            return serve_slack(settings, socket=args.socket, port=args.port)
        from adapters.discord.serve import serve_discord  # type: ignore[import-not-found]

        return serve_discord(settings)
    for name, _help, _add, run in EXTRA_COMMANDS:
        if args.command == name:
            return run(args, settings)
    raise AssertionError(args.command)


if __name__ == "__main__":
    sys.exit(main())
