"""``presales-sim regress``: check policy outcomes against the stored baselines.

Exit status: 0 every case passes; 1 an outcome regressed or a pin moved (each
named in the last lines); 2 bad input (a cases or baselines file that cannot
be used, or baselines that do not fit the cases). ``--accept`` reruns the
cases and rewrites the baselines instead of checking them; review the diff of
the baselines file, then commit it.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from models.regression import (
    ACCEPT_COMMAND,
    DEFAULT_CASES,
    RegressionInputError,
    baselines_text,
    check_runs,
    comparable_checks,
    format_report,
    load_baselines,
    load_cases,
    run_cases,
    validate_baselines,
)

REGRESSED = 1


def add_regress(sub) -> None:
    """Register the ``regress`` subcommand."""
    reg = sub.add_parser(
        "regress",
        help="rerun the regression cases and compare outcomes with the baselines",
        description="Rerun scenario x policy cases with fixed seeds and compare "
        "key outcomes with the stored baselines: pins (replication 0) exactly, "
        "guarded outcomes within confidence intervals. Exit 1 names every "
        f"regression. `{ACCEPT_COMMAND}` rewrites the baselines on purpose.",
    )
    reg.add_argument(
        "--cases",
        type=Path,
        default=DEFAULT_CASES,
        help="cases file (TOML; default regress/cases.toml)",
    )
    reg.add_argument(
        "--baselines",
        type=Path,
        default=None,
        help="baselines file (default: baselines.json next to the cases file)",
    )
    reg.add_argument(
        "--accept",
        action="store_true",
        help="rerun and rewrite the baselines instead of checking them",
    )
    reg.add_argument(
        "--case",
        action="append",
        dest="only",
        metavar="NAME",
        help="run only this case (repeatable)",
    )
    reg.add_argument(
        "--executor",
        choices=("processes", "serial"),
        default="processes",
        help="where replications run, default processes (results are the same)",
    )
    reg.add_argument(
        "--workers",
        type=int,
        default=None,
        help="worker processes (default: the CPU count)",
    )
    reg.add_argument("--quiet", action="store_true", help="no progress bars")
    reg.set_defaults(handler=_cmd_regress)


def _cmd_regress(args) -> int:
    from models.cli import UsageError

    try:
        return _regress(args)
    except RegressionInputError as exc:
        raise UsageError(str(exc)) from None


def _regress(args) -> int:
    if args.workers is not None and args.workers < 1:
        raise RegressionInputError("--workers must be at least 1")
    all_cases = load_cases(args.cases)
    cases = all_cases.select(args.only)
    path = args.baselines or all_cases.baselines_path
    previous = None
    if args.accept:
        if path.exists():
            try:
                previous = load_baselines(path)
            except RegressionInputError as exc:
                print(f"note: replacing an unreadable baselines file ({exc})")
    else:
        previous = load_baselines(path)
        validate_baselines(cases, previous)
    progress = not args.quiet and sys.stderr.isatty()
    started = time.perf_counter()
    runs = run_cases(cases, args.executor, args.workers, progress)
    elapsed = time.perf_counter() - started
    if args.accept:
        return _accept(all_cases, cases, runs, previous, path, elapsed)
    checks = check_runs(cases, runs, previous)
    print(format_report(checks))
    print(f"({len(cases.cases)} case(s) in {elapsed:.1f} s)")
    failed = any(check.failures() for check in checks)
    return REGRESSED if failed else 0


def _accept(all_cases, cases, runs, previous, path: Path, elapsed: float) -> int:
    checks, skipped = comparable_checks(runs, previous, cases.confidence)
    if checks:
        print("Against the baselines being replaced:")
        print(format_report(checks))
        print()
    for line in skipped:
        print(f"not compared with an old baseline: {line}")
    text = baselines_text(all_cases, runs, previous)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    names = ", ".join(run.case.name for run in runs)
    print(f"wrote {path}: new baselines for {names} ({elapsed:.1f} s)")
    print(f"review them with `git diff {path}` and commit the file if intended")
    return 0
