"""``presales-sim compare``, ``sweep`` and ``staff``: experiments from the shell.

Each runs replications of a scenario with common random numbers, stores every
finished replication under ``--store`` at once (a rerun of the same command
resumes, skipping what is stored), prints tables of means with Student-t
intervals and can write the tidy table (``--table``), the per-replication
results (``--raw``) and a Markdown report with figures (``--report``).
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path
from typing import Any

from models.experiment_report import (
    differences_table,
    means_table,
    ranking_table,
    staffing_table,
    to_text,
    write_comparison_report,
    write_staffing_report,
    write_sweep_report,
)
from sim.executors import EXECUTOR_NAMES
from sim.overrides import OverrideError, get_path, parse_assignment

DEFAULT_STORE = Path("results")
STAFF_OUTCOMES = (
    "on_time_share",
    "mean_delay_hours",
    "utilisation",
    "win_rate",
    "won_revenue",
    "presales_cost",
)
"""Outcomes a staffing search shows besides its targets' (unless --outcomes)."""


def add_experiments(sub) -> None:
    """Register the ``compare``, ``sweep`` and ``staff`` subcommands."""
    _add_compare(sub)
    _add_sweep(sub)
    _add_staff(sub)


# ---------------------------------------------------------------- parsers


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("scenario", type=Path, help="scenario TOML file")
    run = parser.add_argument_group("replications")
    run.add_argument(
        "--replications", type=int, default=10, help="replications per variant"
    )
    run.add_argument(
        "--seed",
        type=int,
        default=None,
        help="base seed (default: the scenario's scenario.seed)",
    )
    run.add_argument(
        "--set",
        dest="sets",
        action="append",
        default=[],
        metavar="PATH=VALUE",
        help="override a scenario field for every variant, e.g. "
        "grab.incentive=0.3 (repeatable)",
    )
    run.add_argument("--days", type=int, default=None, help="override the horizon")
    run.add_argument(
        "--warmup",
        type=int,
        default=None,
        help="days at the start excluded from outcomes (scenario.warmup_days)",
    )
    where = parser.add_argument_group("where to run and store")
    where.add_argument(
        "--executor",
        choices=EXECUTOR_NAMES,
        default=None,
        help="processes (default: all cores), serial, or dask",
    )
    where.add_argument(
        "--dask-address",
        default=None,
        help="scheduler of an existing Dask cluster, e.g. tcp://127.0.0.1:8786 "
        "(default with --executor dask: a local cluster)",
    )
    where.add_argument(
        "--workers", type=int, default=None, help="worker processes (default all)"
    )
    where.add_argument(
        "--store",
        type=Path,
        default=DEFAULT_STORE,
        help="folder of stored replications (default results/); reruns resume",
    )
    where.add_argument(
        "--no-store", action="store_true", help="keep nothing; rerun everything"
    )
    out = parser.add_argument_group("output")
    out.add_argument(
        "--outcomes",
        default=None,
        help="comma-separated outcomes to show (default: the key outcomes)",
    )
    out.add_argument(
        "--confidence", type=float, default=0.95, help="two-sided interval level"
    )
    out.add_argument("--table", type=Path, default=None, help="write the tidy CSV")
    out.add_argument(
        "--raw", type=Path, default=None, help="write one CSV row per replication"
    )
    out.add_argument(
        "--report",
        type=Path,
        default=None,
        help="write a Markdown report, with PNG figures in a folder beside it",
    )
    out.add_argument("--quiet", action="store_true", help="no progress bar")


def _add_compare(sub) -> None:
    parser = sub.add_parser(
        "compare",
        help="compare variants of a scenario with paired intervals",
        description="Run the scenario as given (the baseline) and each "
        "--variant with common random numbers; print means with intervals, "
        "paired differences from the baseline and a ranking.",
    )
    _common(parser)
    parser.add_argument(
        "--variant",
        dest="variants",
        action="append",
        default=[],
        metavar="NAME:PATH=VALUE,...",
        help="a variant, e.g. direct:dispatch.policy=direct (repeatable)",
    )
    parser.add_argument(
        "--by-cell",
        action="store_true",
        help="add outcomes per region x solution, e.g. on_time_share.East.GTX",
    )
    parser.set_defaults(handler=_cmd_compare)


def _add_sweep(sub) -> None:
    parser = sub.add_parser(
        "sweep",
        help="run a scenario over a grid or a list of field values",
        description="Run every point of a full grid (--grid, repeatable: one "
        "path each) or a list of points (--points, repeatable: one point "
        "each) with common random numbers; print one tidy table.",
    )
    _common(parser)
    parser.add_argument(
        "--grid",
        action="append",
        default=[],
        metavar="PATH=V1,V2,...",
        help="values of one path; several --grid give the full grid",
    )
    parser.add_argument(
        "--points",
        "--point",
        dest="points",
        action="append",
        default=[],
        metavar="PATH=VALUE,...",
        help="one point of the sweep (repeatable)",
    )
    parser.add_argument(
        "--by-cell",
        action="store_true",
        help="add outcomes per region x solution, e.g. on_time_share.East.GTX",
    )
    parser.set_defaults(handler=_cmd_sweep)


def _add_staff(sub) -> None:
    parser = sub.add_parser(
        "staff",
        help="least headcount meeting service targets, with its curve",
        description="Try each candidate headcount on the engineer pools "
        "chosen by --headcount-path or by --region/--solution/--grade, and "
        "report the least one whose replications meet every --target.",
    )
    _common(parser)
    parser.add_argument(
        "--headcount-path",
        dest="paths",
        action="append",
        default=[],
        metavar="PATH",
        help="a count to vary, e.g. engineers.pools[0].count (repeatable)",
    )
    parser.add_argument("--region", default=None, help="pools of this region")
    parser.add_argument("--solution", default=None, help="pools covering this")
    parser.add_argument("--grade", default=None, help="pools of this grade")
    parser.add_argument(
        "--candidates",
        default=None,
        metavar="N,N,...",
        help="headcounts to try; a total is split over the pools in "
        "proportion to today's counts, or give counts per pool as 3/2/1",
    )
    parser.add_argument(
        "--target",
        dest="targets",
        action="append",
        default=[],
        metavar="OUTCOME>=VALUE[@CONF]",
        help="e.g. 'on_time_share>=0.95', 'win_rate>=0.6@0.9', or one region x "
        "solution's 'on_time_share.East.GTX>=0.9' (repeatable)",
    )
    parser.add_argument(
        "--list-pools",
        action="store_true",
        help="list the engineer pools and their headcount paths, then stop",
    )
    parser.set_defaults(handler=_cmd_staff)


# ---------------------------------------------------------------- checks


def _usage(message: str) -> Exception:
    from models.cli import UsageError

    return UsageError(message)


def _check_path(config: dict, path: str, option: str, text: str) -> None:
    try:
        get_path(config, path)
    except OverrideError as exc:
        raise _usage(
            f"{option} {text!r}: {exc}; check the path (`presales-sim validate` "
            "shows the scenario is valid, models/scenario.py lists every field)"
        ) from None


def _assignment(text: str, option: str, config: dict) -> tuple[str, Any]:
    try:
        path, value = parse_assignment(text)
    except OverrideError as exc:
        raise _usage(f"{option} {text!r}: {exc}") from None
    _check_path(config, path, option, text)
    return path, value


def _overrides(args, config: dict) -> dict[str, Any]:
    """The --set, --days and --warmup overrides, each checked against config."""
    overrides = dict(_assignment(text, "--set", config) for text in args.sets)
    if args.days is not None:
        if args.days < 1:
            raise _usage("--days must be at least 1")
        overrides["scenario.horizon_days"] = args.days
    if args.warmup is not None:
        if args.warmup < 0:
            raise _usage("--warmup must be 0 or more days")
        overrides["scenario.warmup_days"] = args.warmup
    return overrides


def _check_common(args) -> None:
    if args.replications < 2:
        raise _usage(
            f"--replications {args.replications}: intervals need at least 2; "
            "use 10 or more for decisions"
        )
    if not 0.0 < args.confidence < 1.0:
        raise _usage(f"--confidence {args.confidence}: give a level in (0, 1)")
    if args.workers is not None and args.workers < 1:
        raise _usage(f"--workers {args.workers}: give 1 or more")
    if args.dask_address and args.executor not in (None, "dask"):
        raise _usage(
            f"--dask-address needs --executor dask (got --executor {args.executor})"
        )
    if args.executor == "dask" or args.dask_address:
        try:
            import distributed  # noqa: F401  (only checking it is installed)
        except ImportError:
            raise _usage(
                "--executor dask needs Dask: pip install 'presales-sim[dask]'"
            ) from None
        if not args.verbose:
            logging.getLogger("distributed").setLevel(logging.WARNING)


def _shown(args, names: list[str], default=None) -> list[str]:
    from models.experiments import KEY_OUTCOMES

    if args.outcomes is None:
        return [o for o in default or KEY_OUTCOMES if o in names]
    chosen = [o.strip() for o in args.outcomes.split(",") if o.strip()]
    unknown = [o for o in chosen if o not in names]
    if unknown or not chosen:
        raise _usage(
            f"--outcomes: unknown {', '.join(unknown) or '(none given)'}; "
            f"choose from {', '.join(names)}"
        )
    return chosen


def _names(args, config: dict) -> list[str]:
    """Outcome names of the run, with the cells' when --by-cell is given."""
    from models.cell_outcomes import outcomes_by_cell
    from models.experiments import outcome_names

    return outcome_names(config, outcomes_by_cell if args.by_cell else None)


def _prepare(args) -> tuple[dict, dict]:
    """Load the scenario, check the common options; the config and overrides."""
    from models.experiments import load_config

    _check_common(args)
    config = load_config(args.scenario)
    return config, _overrides(args, config)


def _run_options(args) -> dict[str, Any]:
    return {
        "replications": args.replications,
        "executor": args.executor,
        "store": None if args.no_store else args.store,
        "seed": args.seed,
        "confidence": args.confidence,
        "dask_address": args.dask_address,
        "workers": args.workers,
        "progress": not args.quiet,
    }


def _run(args, what, **kwargs):
    """Run an experiment, turning interrupts and bad input into clear messages."""
    started = time.perf_counter()
    try:
        result = what(args.scenario, **kwargs, **_run_options(args))
    except KeyboardInterrupt:
        if not args.no_store:
            print(
                f"stopped; finished replications are kept under {args.store}/ - "
                "rerun the same command to resume",
                file=sys.stderr,
            )
        raise
    except (OSError, TimeoutError) as exc:
        if args.dask_address:
            raise _usage(
                f"--dask-address {args.dask_address}: cannot reach the scheduler "
                f"({exc}); start one (`dask scheduler`) or drop the option"
            ) from None
        raise
    except OverrideError as exc:
        raise _usage(f"{exc}; check the path") from None
    return result, time.perf_counter() - started


def _write_outputs(args, table, raw) -> None:
    for option, frame in (("table", table), ("raw", raw)):
        target = getattr(args, option)
        if target is not None:
            target.parent.mkdir(parents=True, exist_ok=True)
            frame.to_csv(target, index=False)
            print(f"wrote {target}")


def _footer(args, result, elapsed: float) -> str:
    from models.experiment_inputs import code_fingerprint

    store = (
        "no store"
        if args.no_store
        else f"results stored in {args.store}/model-{code_fingerprint()}/"
    )
    return (
        f"{args.replications} replications per variant, base seed {result.seed}, "
        f"{args.confidence:.0%} Student-t intervals; {store}; {elapsed:.1f} s"
    )


def _horizon(config: dict) -> str:
    meta = config["scenario"]
    return (
        f"{meta['horizon_days']} days simulated, first {meta['warmup_days']} "
        "excluded (warm-up)"
    )


# ---------------------------------------------------------------- commands


def _cmd_compare(args) -> int:
    from models import experiments as ex

    config, overrides = _prepare(args)
    if not args.variants:
        raise _usage(
            "compare needs at least one --variant NAME:PATH=VALUE,... "
            "(e.g. --variant direct:dispatch.policy=direct)"
        )
    variants = []
    for text in args.variants:
        try:
            variant = ex.parse_variant(text)
        except (ValueError, OverrideError) as exc:
            raise _usage(f"--variant {text!r}: {exc}") from None
        for path in variant.overrides:
            _check_path(config, path, "--variant", text)
        variants.append(variant)
    names = [v.name for v in variants]
    clash = sorted({n for n in names if names.count(n) > 1 or n == ex.BASELINE})
    if clash:
        raise _usage(
            f"--variant: name(s) {', '.join(clash)} used twice or reserved for "
            "the scenario as given; give each variant its own name"
        )
    shown = _shown(args, _names(args, config))
    result, elapsed = _run(
        args,
        ex.compare,
        by_cell=args.by_cell,
        variants=variants,
        overrides=overrides,
        rank_by=shown,
    )
    print(f"Comparison on {args.scenario}: {_horizon(result.config)}")
    print("\nMeans (± half-width)")
    print(to_text(means_table(result.summary, shown)))
    print("\nDifferences from the baseline (variant - baseline, paired)")
    print(to_text(differences_table(result.differences, shown)))
    print("\nRanking (best first; = joins those tied with the best)")
    print(to_text(ranking_table(result.ranking, shown)))
    print("\n" + _footer(args, result, elapsed))
    _write_outputs(args, result.summary, result.results)
    if args.report:
        print(f"wrote {write_comparison_report(result, args.report, shown)}")
    return 0


def _grid(args, config: dict) -> dict[str, list]:
    grid: dict[str, list] = {}
    for text in args.grid:
        path, sep, values = text.partition("=")
        path = path.strip()
        parts = _split_values(values)
        if not sep or not path or not parts:
            raise _usage(
                f"--grid {text!r}: write PATH=V1,V2,... "
                "(e.g. --grid grab.incentive=0.2,0.5)"
            )
        if path in grid:
            raise _usage(f"--grid: {path} is given twice; list all values once")
        grid[path] = [_assignment(f"{path}={v}", "--grid", config)[1] for v in parts]
    return grid


def _split_values(text: str) -> list[str]:
    """Split on commas outside brackets, so list values survive."""
    parts, depth, current = [], 0, ""
    for char in text:
        depth += char in "[{"
        depth -= char in "]}"
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    return [p.strip() for p in parts if p.strip()]


def _cmd_sweep(args) -> int:
    from models import experiments as ex

    config, overrides = _prepare(args)
    if bool(args.grid) == bool(args.points):
        raise _usage(
            "sweep needs either --grid PATH=V1,V2 (one per path) or --points "
            "PATH=VALUE,... (one per point), not both"
        )
    grid, points = None, None
    if args.grid:
        grid = _grid(args, config)
    else:
        points = []
        for text in args.points:
            try:
                point = ex.parse_assignments(text)
            except OverrideError as exc:
                raise _usage(f"--points {text!r}: {exc}") from None
            for path in point:
                _check_path(config, path, "--points", text)
            points.append(point)
    shown = _shown(args, _names(args, config))
    result, elapsed = _run(
        args,
        ex.sweep,
        by_cell=args.by_cell,
        grid=grid,
        points=points,
        overrides=overrides,
    )
    print(f"Sweep on {args.scenario}: {_horizon(result.config)}")
    table = means_table(result.table, shown).T
    table.index.name = "point"
    print(to_text(table))
    print("\n" + _footer(args, result, elapsed))
    _write_outputs(args, result.table, result.results)
    if args.report:
        print(f"wrote {write_sweep_report(result, args.report, shown)}")
    return 0


def _candidates(text: str | None, paths: list[str]) -> list:
    if not text:
        raise _usage("staff needs --candidates, e.g. --candidates 4,5,6,7")
    out = []
    for item in (t.strip() for t in text.split(",") if t.strip()):
        try:
            counts = [int(c) for c in item.split("/")]
        except ValueError:
            raise _usage(
                f"--candidates: {item!r} is not a whole number; write "
                "4,5,6 or per-pool counts 3/2,4/2"
            ) from None
        if any(c < 0 for c in counts):
            raise _usage(f"--candidates: {item!r} is negative; headcounts are >= 0")
        if len(counts) > 1 and len(counts) != len(paths):
            raise _usage(
                f"--candidates: {item!r} gives {len(counts)} counts for "
                f"{len(paths)} pools ({', '.join(paths)})"
            )
        out.append(counts if len(counts) > 1 else counts[0])
    if not out:
        raise _usage("--candidates is empty; e.g. --candidates 4,5,6,7")
    return out


def _staff_paths(args, config: dict) -> list[str]:
    from models import experiments as ex

    chosen = (args.region, args.solution, args.grade)
    if args.paths and any(chosen):
        raise _usage(
            "give either --headcount-path or --region/--solution/--grade, not both"
        )
    for path in args.paths:
        _check_path(config, path, "--headcount-path", path)
        if not isinstance(get_path(config, path), int):
            raise _usage(
                f"--headcount-path {path}: not a count (holds "
                f"{get_path(config, path)!r}); use engineers.pools[i].count"
            )
    if args.paths:
        return list(args.paths)
    for option, value, known in (
        ("--region", args.region, config["regions"]),
        ("--solution", args.solution, config["solutions"]),
        ("--grade", args.grade, [g["name"] for g in config["grades"]]),
    ):
        if value is not None and value not in known:
            raise _usage(f"{option} {value!r}: use one of {', '.join(known)}")
    paths = ex.pool_paths(config, *chosen)
    if not paths:
        raise _usage(
            "no engineer pool matches --region/--solution/--grade; see --list-pools"
        )
    return paths


def _cmd_staff(args) -> int:
    from models import experiments as ex
    from models.cell_outcomes import CELL_OUTCOMES, cell_outcome_name, outcomes_by_cell

    config, overrides = _prepare(args)
    if args.list_pools:
        print(to_text(ex.describe_pools(config).astype(str).set_index("path")))
        return 0
    paths = _staff_paths(args, config)
    candidates = _candidates(args.candidates, paths)
    if not args.targets:
        raise _usage("staff needs at least one --target, e.g. 'on_time_share>=0.95'")
    names = ex.outcome_names(config, outcomes_by_cell)
    targets = []
    for text in args.targets:
        try:
            target = ex.parse_target(text)
        except ValueError as exc:
            raise _usage(f"--target: {exc}") from None
        if target.outcome not in names:
            plain = [n for n in names if "." not in n]
            raise _usage(
                f"--target {text!r}: unknown outcome {target.outcome!r}; choose "
                f"from {', '.join(plain)}, or one region x solution's "
                f"{', '.join(CELL_OUTCOMES)} as OUTCOME.REGION.SOLUTION"
            )
        targets.append(target)
    shown = _shown(args, names, STAFF_OUTCOMES)
    if args.outcomes is None and args.region and args.solution:
        cell = [cell_outcome_name(o, args.region, args.solution) for o in CELL_OUTCOMES]
        shown = [*cell, *shown]
    result, elapsed = _run(
        args,
        ex.staff,
        candidates=candidates,
        targets=targets,
        headcount_paths=paths,
        overrides=overrides,
    )
    print(f"Staffing search on {args.scenario}: {_horizon(result.config)}")
    print("Headcount paths: " + ", ".join(paths))
    print("Targets: " + "; ".join(str(t) for t in targets))
    outcomes = list(dict.fromkeys([*(t.outcome for t in targets), *shown]))
    print()
    print(to_text(staffing_table(result, outcomes)))
    print("\n" + result.statement)
    if result.erlang is not None:
        least = result.erlang_least_headcount
        note = f" ({result.erlang_note})" if result.erlang_note else ""
        print(
            "Erlang C least headcount: "
            + ("n/a" if least is None else str(least))
            + note
        )
    print(_footer(args, result, elapsed))
    _write_outputs(args, result.curve, result.search.results)
    if args.report:
        print(f"wrote {write_staffing_report(result, args.report, shown)}")
    return 0
