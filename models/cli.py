"""The ``presales-sim`` command line.

Exit status: 0 success, 2 bad input (scenario or CRM export), 1 anything else
that went wrong (reported without a traceback unless ``--debug`` is given).
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

from models.scenario import ScenarioError, load_scenario

BAD_INPUT = 2


class UsageError(ValueError):
    """Bad input reported to the user with exit status 2."""


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``presales-sim`` command."""
    parser = _parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        return args.handler(args)
    except (ScenarioError, UsageError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return BAD_INPUT
    except (
        IsADirectoryError,
        NotADirectoryError,
        FileExistsError,
        PermissionError,
        FileNotFoundError,
    ) as exc:
        where = exc.filename or "a path given"
        print(
            f"error: {where}: {exc.strerror or exc}; check the path (a folder "
            "where a file is expected, or a file where a folder is expected)",
            file=sys.stderr,
        )
        return BAD_INPUT
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # the CLI's last line: report, never a traceback
        if args.debug:
            raise
        print(
            f"error: {type(exc).__name__}: {exc} (rerun with --debug for details)",
            file=sys.stderr,
        )
        return 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="presales-sim",
        description="Simulate a presales work-order system on calibrated demand.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log details")
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="simulate one scenario and write its outputs")
    run.add_argument("scenario", type=Path, help="scenario TOML file")
    run.add_argument(
        "--out",
        type=Path,
        default=Path("out"),
        help="output folder (a subfolder per scenario is made)",
    )
    run.add_argument("--seed", type=int, default=None, help="override the seed")
    run.add_argument("--days", type=int, default=None, help="override the horizon")
    run.add_argument("--quiet", action="store_true", help="no progress bar")
    run.set_defaults(handler=_cmd_run)

    check = sub.add_parser("validate", help="check a scenario file and stop")
    check.add_argument("scenario", type=Path)
    check.set_defaults(handler=_cmd_validate)

    from models.cli_calibrate import add_calibrate

    add_calibrate(sub)
    __import__("models.compare").compare.add_policies(sub)
    __import__("models.cli_board").cli_board.add_board(sub)
    __import__("models.cli_regress").cli_regress.add_regress(sub)
    __import__("models.cli_experiments").cli_experiments.add_experiments(sub)
    __import__("models.scenario_reference").scenario_reference.add_reference(sub)
    return parser


def _cmd_validate(args) -> int:
    s = load_scenario(args.scenario)
    print(
        f"{args.scenario}: valid ({len(s.regions)} regions, "
        f"{len(s.solutions)} solutions, {s.scenario.horizon_days} days)"
    )
    return 0


def _cmd_run(args) -> int:
    import resource

    from models.runner import run_scenario, write_outputs

    scenario = load_scenario(args.scenario)
    if args.days is not None:
        if not 1 <= args.days <= 3660:
            raise UsageError(f"--days {args.days}: give 1 to 3660 days")
        if scenario.scenario.warmup_days >= args.days:
            raise UsageError(
                f"--days {args.days}: no longer than the scenario's "
                f"warm-up ({scenario.scenario.warmup_days} days); "
                "give more days"
            )
        scenario.scenario.horizon_days = args.days
    if args.seed is not None and args.seed < 0:
        raise UsageError(f"--seed {args.seed}: seeds are non-negative integers")
    if args.out.exists() and not args.out.is_dir():
        raise UsageError(f"--out {args.out}: is a file; give a folder")
    started = time.perf_counter()
    result = run_scenario(scenario, args.seed, progress=not args.quiet)
    out = args.out / scenario.scenario.name
    write_outputs(result, out)
    elapsed = time.perf_counter() - started
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        format_summary(
            scenario.scenario.name, result.outcomes, scenario.scenario.currency
        )
    )
    print(f"\noutputs in {out}/  ({elapsed:.1f} s, peak memory {peak_mib:.0f} MiB)")
    return 0


SUMMARY_LINES = [
    (
        "Direct dispatch",
        [
            ("tickets", "tickets raised", "{:.0f}"),
            ("tickets_done", "served", "{:.0f}"),
            ("tickets_unserved", "never served", "{:.0f}"),
            ("fill_rate", "fill rate", "{:.1%}"),
            ("mean_response_hours", "mean response (working h)", "{:.1f}"),
        ],
    ),
    (
        "Visibility",
        [
            ("on_time_share", "on-time starts", "{:.1%}"),
            ("slight_delays", "slightly late", "{:.0f}"),
            ("severe_delays", "severely late", "{:.0f}"),
            ("mean_rating", "mean rating (1-5)", "{:.2f}"),
            ("utilisation", "utilisation", "{:.1%}"),
        ],
    ),
    (
        "User pays",
        [
            ("budget_total", "budget", "{:,.0f}"),
            ("budget_taken", "taken", "{:,.0f}"),
            ("budget_spent", "spent", "{:,.0f}"),
            ("budget_left", "left", "{:,.0f}"),
            ("budget_refusals", "bookings refused for budget", "{:.0f}"),
        ],
    ),
    (
        "Real-time control",
        [
            ("alerts", "alerts", "{:.0f}"),
            ("playbooks_applied", "playbooks applied", "{:.0f}"),
        ],
    ),
    (
        "Service grabbing",
        [
            ("grab_orders", "grab orders", "{:.0f}"),
            ("grab_fill_rate", "filled", "{:.1%}"),
            ("mean_hours_to_grab", "mean time to fill (working h)", "{:.1f}"),
            ("incentive_paid", "incentive paid", "{:,.0f}"),
        ],
    ),
    (
        "Sales",
        [
            ("opportunities", "opportunities", "{:.0f}"),
            ("win_rate", "win rate", "{:.1%}"),
            ("won_revenue", "won revenue", "{:,.0f}"),
            ("presales_cost", "presales cost", "{:,.0f}"),
            ("cost_to_revenue", "cost to revenue", "{:.2%}"),
        ],
    ),
]


def format_summary(name: str, outcomes: dict[str, float], currency: str) -> str:
    """The key outcomes as a short, grouped text table."""
    lines = [f"Scenario {name} (money in {currency})"]
    for group, items in SUMMARY_LINES:
        lines.append(f"  {group}")
        for key, label, fmt in items:
            value = outcomes.get(key, float("nan"))
            text = "n/a" if value != value else fmt.format(value)
            lines.append(f"    {label:<32} {text:>14}")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
