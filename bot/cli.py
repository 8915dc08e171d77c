"""The `readgroup` command line (names as in DESIGN.md): the core's
sub-commands, listed in :data:`CORE_COMMANDS`. The entry point is
:mod:`adapters.cli`, which adds one sub-command per platform, so nothing in
``bot/`` imports an adapter."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from pydantic import ValidationError

from bot.app import build_bot, open_engine
from bot.digest.periods import Month, PeriodError, Quarter, Week
from bot.infra.clock import SystemClock
from bot.infra.settings import Settings, SettingsError
from storage.connect import DatabaseUnavailable
from storage.engine import session_scope

log = logging.getLogger("readgroup")


@dataclass(frozen=True)
class SubCommand:
    """One ``readgroup <name>`` sub-command."""

    name: str
    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace, Settings], int]


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


def _db_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=["upgrade"])


def _run_db(args: argparse.Namespace, settings: Settings) -> int:
    open_engine(settings).dispose()
    print("database schema is up to date")
    return 0


# The sub-commands' arguments are defined here and their modules imported
# when they run: the console and the servers start without the exports'
# and the prompt check's modules (and the digest they load).


def _export_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "what", choices=["digest", "quarter", "month", "ics"], help="what to export"
    )
    parser.add_argument(
        "period",
        nargs="?",
        help="quarter: e.g. 2026-Q4; month: e.g. 2026-11 (default: this quarter or month)",
    )
    parser.add_argument("--week", help="for digest: ISO week, e.g. 2026-W47 (default: this week)")
    parser.add_argument("--format", choices=["md"], default="md", help="output format (md)")
    parser.add_argument(
        "--group", type=int, help="group id (needed when the database has several groups)"
    )


def _run_export(args: argparse.Namespace, settings: Settings) -> int:
    from bot.digest import exports

    if args.what == "ics":
        return _run_ics(args, settings)
    try:
        if args.what == "quarter":
            # validated here; None (this quarter) is settled in the group's time zone
            now = SystemClock().now()
            quarter = Quarter.parse(args.period, now=now) if args.period else None
        elif args.what == "month":
            # validated here; None (this month) is settled in the group's time zone
            month = Month.parse(args.period, now=SystemClock().now()) if args.period else None
        else:
            # validated here; None (this week) is settled in the group's time zone
            week = Week.parse(args.week, now=SystemClock().now()) if args.week else None
    except PeriodError as exc:
        print(f"readgroup: {exc}", file=sys.stderr)
        return 2
    bot = build_bot(settings)

    async def work() -> str:
        try:
            if args.what == "quarter":
                return await exports.export_quarter(bot, quarter=quarter, group_id=args.group)
            if args.what == "month":
                return await exports.export_month(bot, month=month, group_id=args.group)
            return await exports.export_week(bot, week=week, group_id=args.group)
        finally:
            if bot.llm is not None:
                await bot.llm.aclose()
            await bot.aclose()

    try:
        text = asyncio.run(work())
    except exports.ExportError as exc:
        print(f"readgroup: {exc}", file=sys.stderr)
        return 1
    sys.stdout.write(text)
    return 0


def _run_ics(args: argparse.Namespace, settings: Settings) -> int:
    from bot.schedule import calendar

    engine = open_engine(settings)
    try:
        with session_scope(engine) as session:
            result = calendar.export_ics(session=session, group_id=args.group)
    except LookupError as exc:  # no group with a meeting rule: the message says what to do
        print(f"readgroup: {exc.args[0] if exc.args else exc}", file=sys.stderr)
        return 1
    finally:
        engine.dispose()
    sys.stdout.buffer.write(result)
    return 0


def _prompts_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=["check"], help="render every prompt and template")


def _run_prompts(args: argparse.Namespace, settings: Settings) -> int:
    from bot.digest import prompt_check

    return prompt_check.run(args, settings)


#: The core's sub-commands; the platforms' (console, serve, slack-manifest)
#: are added by the ``readgroup`` entry point, ``adapters.cli``.
CORE_COMMANDS = (
    SubCommand("db", "database maintenance", _db_arguments, _run_db),
    SubCommand(
        "export",
        "export the weekly post, the quarterly digest, the monthly picks or the calendar",
        _export_arguments,
        _run_export,
    ),
    SubCommand(
        "prompts",
        "check the prompt and post-template files",
        _prompts_arguments,
        _run_prompts,
    ),
)


def _load_settings() -> Settings:
    """Settings from the environment and .env; a bad value is one line that
    names the variable, what it holds and what it should be."""
    try:
        return Settings()
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            name = ".".join(str(part) for part in err["loc"]) or "a setting"
            problems.append(f"{name}={err.get('input')!s} is not valid: {err['msg']}")
        raise SettingsError(
            "; ".join(problems) + ". Fix it in the environment or in .env (see .env.example)."
        ) from None


def build_parser(commands: Sequence[SubCommand]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="readgroup", description="A Slack and Discord bot that runs an ML reading group."
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True)
    for command in commands:
        command.add_arguments(sub.add_parser(command.name, help=command.help))
    return parser


def main(argv: list[str] | None = None, *, platforms: Sequence[SubCommand] = ()) -> int:
    """Run ``readgroup``: the core's sub-commands and the ``platforms``' ones."""
    commands = {c.name: c for c in (*platforms, *CORE_COMMANDS)}
    try:
        args = build_parser(list(commands.values())).parse_args(argv)
        setup_logging(args.verbose, quiet_tracebacks=args.command == "console")
        settings = _load_settings()
        return commands[args.command].run(args, settings)
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
