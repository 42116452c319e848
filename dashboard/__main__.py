"""Command line: ``python -m dashboard {validate,refresh,reactions,funding-gap,export} ...``.

Exit codes (``config.EXIT_*``): 0 success; 1 the data or the inputs failed validation (a report
is printed); 2 any other failure, reported in one line without a traceback. Usage errors (an
unknown option, two outputs naming the same file, an output that is neither .csv nor .xlsx,
options that contradict each other) exit 2 before anything is read or written.
"""

from __future__ import annotations

import argparse
import sys
from typing import NoReturn

from dashboard import config
from dashboard.commands import COMMANDS
from dashboard.commands.output import format_problem, option_paths, same_file_problem
from dashboard.errors import CurationError, DashboardError, SnapshotDamaged


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # argparse's own errors exit 2 with one line as well
        self.exit(config.EXIT_FAILURE, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m dashboard", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for command in COMMANDS:
        sub = commands.add_parser(command.NAME, help=command.HELP, description=command.HELP)
        command.add_arguments(sub)
        sub.set_defaults(run=command.run, command_module=command, command_parser=sub)
    return parser


def usage_problem(args: argparse.Namespace) -> str | None:
    """What makes the command's options unusable together, or None."""
    command = args.command_module
    outputs = option_paths(args, getattr(command, "OUTPUTS", ()))
    problem = same_file_problem(outputs, option_paths(args, getattr(command, "INPUTS", ())))
    check = getattr(command, "check_arguments", None)
    problem = problem or (check(args) if check else None)
    formats = (format_problem(path) for path in outputs.values() if path is not None)
    return problem or next((f for f in formats if f), None)


def _invalid_data(exc: Exception) -> int | None:
    """Exit 1 for a failure that is invalid data (a file's row-by-row report, or a data snapshot
    that does not match its manifest), after printing what is wrong; None for any other failure."""
    report = getattr(exc, "report", None)
    if isinstance(exc, CurationError) and report is not None and hasattr(report, "lines"):
        lines = report.lines()
    elif isinstance(exc, SnapshotDamaged):
        lines = [f"  {mismatch}" for mismatch in exc.mismatches] if len(exc.mismatches) > 1 else []
    else:
        return None
    print("\n".join([*lines, f"error: {exc}"]), file=sys.stderr)
    return config.EXIT_INVALID


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    problem = usage_problem(args)
    if problem:
        args.command_parser.error(problem)
    try:
        return int(args.run(args))
    except DashboardError as exc:
        invalid = _invalid_data(exc)
        if invalid is not None:
            return invalid
        print(f"error: {exc}", file=sys.stderr)
        return config.EXIT_FAILURE
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return config.EXIT_FAILURE
    except Exception as exc:  # the promise is one line, never a traceback
        print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return config.EXIT_FAILURE


if __name__ == "__main__":
    sys.exit(main())
