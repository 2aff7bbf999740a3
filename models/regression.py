"""Regression of policy outcomes against baselines kept in the repository.

``presales-sim regress`` reruns a fixed set of cases (a scenario file, some
overrides, a number of replications and a base seed) and compares what comes
out with ``regress/baselines.json``. The cases live in ``regress/cases.toml``::

    confidence = 0.95          # two-sided level of every interval

    [[case]]
    name = "crm_hybrid"
    scenario = "../scenarios/crm_calibrated.toml"   # relative to this file
    replications = 6
    base_seed = 101
    pins = ["tickets", "tickets_done", "budget_refusals", "grab_orders"]

    [case.overrides]           # dotted paths into the scenario, as in sweeps
    "scenario.horizon_days" = 60
    "dispatch.policy" = "hybrid"

    [case.outcomes]            # outcome = rule, or a table with a tolerance
    on_time_share = "two_sided"
    fill_rate = { rule = "higher_is_better", min_tolerance = 0.01 }

Overrides may add keys the scenario file leaves out (``grab.enabled`` on a
file without a ``[grab]`` table); the result is validated like any scenario,
so a misspelt path is still reported.

The check has two parts.

*Pins* are exact. Replication 0's value of every outcome named in ``pins``
must equal the baseline's (both rounded to 10 significant digits, which only
absorbs floating-point noise in the last bits). A moved pin fails the check:
the same seeds no longer give the same run, so the model's behaviour changed,
even when every mean stays within tolerance.

*Guarded outcomes* are statistical. The baseline keeps, per outcome, the mean
``m0`` and the half-width ``h0`` of its Student-t interval over the case's
replications; the check reruns the same replications with the same seeds and
gets ``m1 ± h1``. With ``d = m1 - m0`` and the tolerance
``tol = max(h0 + h1, min_tolerance)``:

* ``two_sided`` (the default) regresses when ``|d| > tol``;
* ``higher_is_better`` regresses when ``d < -tol`` (a rise beyond ``tol`` is
  reported as ``better`` and passes);
* ``lower_is_better`` regresses when ``d > tol`` (a fall is ``better``).

``|d| <= h0 + h1`` is exactly "the new mean lies inside the baseline interval
widened by the new run's half-width", i.e. the two intervals overlap. That is
deliberately looser than a two-sample t test, so that only clear moves fail;
an unchanged model reruns to ``d = 0``. ``min_tolerance`` (in the outcome's
unit) keeps an outcome whose replications happen to agree (``h0 = h1 = 0``)
from failing on any change at all. An outcome undefined in every replication
(NaN, e.g. a mean rating with no ratings) passes when it is undefined on both
sides and regresses when it becomes, or stops being, undefined.

The baselines file is JSON with sorted keys and two-space indents, numbers
rounded to 10 significant digits, so that ``git diff`` shows what moved. In
it a ``mean`` of ``null`` means undefined and a ``half_width`` of ``null``
means unbounded (fewer than two defined values). Accepting new baselines on
purpose is one command, ``presales-sim regress --accept``, whose result is
reviewed in the diff before it is committed.
"""

from __future__ import annotations

import json
import math
import os
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from models.runner import replication_outcomes
from models.scenario import scenario_from_dict
from sim.executors import Executor, ProcessExecutor, SerialExecutor
from sim.experiment import run_experiment
from sim.overrides import OverrideError, apply_overrides, content_hash
from sim.stats import Interval, mean_ci

__all__ = [
    "ACCEPT_COMMAND",
    "RULES",
    "CaseCheck",
    "CaseRun",
    "CaseSet",
    "Guard",
    "OutcomeCheck",
    "PinCheck",
    "RegressionInputError",
    "baselines_text",
    "check_runs",
    "comparable_checks",
    "compare_outcome",
    "format_report",
    "load_baselines",
    "load_cases",
    "run_cases",
    "validate_baselines",
]

RULES = ("two_sided", "higher_is_better", "lower_is_better")
ACCEPT_COMMAND = "presales-sim regress --accept"
SIGNIFICANT_DIGITS = 10
DEFAULT_CASES = Path("regress/cases.toml")


class RegressionInputError(ValueError):
    """A cases or baselines file that cannot be used; the message says why."""


# --- the cases file --------------------------------------------------------


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _GuardSpec(_Strict):
    rule: Literal["two_sided", "higher_is_better", "lower_is_better"] = "two_sided"
    min_tolerance: float = Field(0.0, ge=0.0)


class _CaseSpec(_Strict):
    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    scenario: str = Field(min_length=1)
    replications: int = Field(ge=2, le=1000)
    base_seed: int = Field(ge=0)
    overrides: dict[str, Any] = {}
    pins: list[str] = []
    outcomes: dict[
        str,
        Literal["two_sided", "higher_is_better", "lower_is_better"] | _GuardSpec,
    ] = Field(min_length=1)


class _CasesFile(_Strict):
    confidence: float = Field(0.95, gt=0.0, lt=1.0)
    case: list[_CaseSpec] = Field(min_length=1)


@dataclass(frozen=True)
class Guard:
    """One guarded outcome and its rule.

    Attributes:
        outcome: Outcome name, as ``models.outcomes.key_outcomes`` returns it.
        rule: ``two_sided``, ``higher_is_better`` or ``lower_is_better``.
        min_tolerance: Least tolerance, in the outcome's unit.
    """

    outcome: str
    rule: str = "two_sided"
    min_tolerance: float = 0.0


@dataclass(frozen=True)
class Case:
    """One scenario x policy case of the regression set.

    Attributes:
        name: Unique name.
        scenario: Scenario file as written in the cases file.
        scenario_path: That file resolved against the cases file's folder.
        overrides: Dotted path to value, applied to the scenario.
        replications: Replications run (at least 2).
        base_seed: Base seed of the replications' streams.
        pins: Outcomes whose replication-0 values must not move at all.
        guards: Outcomes compared within confidence intervals.
    """

    name: str
    scenario: str
    scenario_path: Path
    overrides: Mapping[str, Any]
    replications: int
    base_seed: int
    pins: tuple[str, ...]
    guards: tuple[Guard, ...]


@dataclass(frozen=True)
class CaseSet:
    """The cases of one cases file.

    Attributes:
        path: The cases file.
        confidence: Two-sided level of every interval.
        cases: The cases, in file order.
    """

    path: Path
    confidence: float
    cases: tuple[Case, ...]

    @property
    def baselines_path(self) -> Path:
        """Where the baselines live by default: next to the cases file."""
        return self.path.with_name("baselines.json")

    def select(self, names: Sequence[str] | None) -> CaseSet:
        """Return the set reduced to ``names`` (all cases when empty).

        Raises:
            RegressionInputError: If a name is not a case.
        """
        if not names:
            return self
        known = [c.name for c in self.cases]
        unknown = [n for n in names if n not in known]
        if unknown:
            raise RegressionInputError(
                f"{self.path}: no case named {', '.join(unknown)}; the cases are "
                f"{', '.join(known)}"
            )
        chosen = tuple(c for c in self.cases if c.name in names)
        return CaseSet(self.path, self.confidence, chosen)


def _problem(error: Mapping[str, Any]) -> str:
    where = ".".join(str(p) for p in error["loc"]) or "(top level)"
    if error["type"] == "missing":
        return f"{where}: required; add it"
    if error["type"] == "extra_forbidden":
        return f"{where}: unknown key; remove it or check its spelling"
    return f"{where}: {error['msg'].lower()} (got {error.get('input')!r})"


def load_cases(path: str | os.PathLike[str] = DEFAULT_CASES) -> CaseSet:
    """Read and check a cases file.

    Args:
        path: The TOML cases file.

    Returns:
        The cases; scenario paths are resolved against the file's folder.

    Raises:
        RegressionInputError: Listing every problem found.
    """
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RegressionInputError(f"{path}: cases file not found") from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise RegressionInputError(f"{path}: cannot read the cases ({exc})") from None
    try:
        spec = _CasesFile.model_validate(raw)
    except ValidationError as exc:
        lines = [_problem(e) for e in exc.errors()]
        raise RegressionInputError(
            f"{path}: {len(lines)} problem(s):\n" + "\n".join(f"  - {x}" for x in lines)
        ) from None
    problems = []
    names = [c.name for c in spec.case]
    for name in sorted({n for n in names if names.count(n) > 1}):
        problems.append(f"case {name!r} appears more than once; names must differ")
    cases = []
    for item in spec.case:
        scenario_path = path.parent / item.scenario
        if not scenario_path.is_file():
            problems.append(
                f"case {item.name!r}: scenario {item.scenario!r} not found (looked "
                f"for {scenario_path}; paths are relative to the cases file)"
            )
        guards = tuple(
            Guard(name, rule) if isinstance(rule, str) else Guard(name, **dict(rule))
            for name, rule in item.outcomes.items()
        )
        cases.append(
            Case(
                item.name,
                item.scenario,
                scenario_path,
                dict(item.overrides),
                item.replications,
                item.base_seed,
                tuple(item.pins),
                guards,
            )
        )
    if problems:
        raise RegressionInputError(
            f"{path}: {len(problems)} problem(s):\n"
            + "\n".join(f"  - {p}" for p in problems)
        )
    return CaseSet(path, spec.confidence, tuple(cases))


# --- running ---------------------------------------------------------------


@dataclass
class CaseRun:
    """What one case gave.

    Attributes:
        case: The case.
        config_hash: Content hash of the scenario with its overrides.
        pins: Replication 0's value of each pin, rounded.
        stats: Mean and half-width of each guarded outcome.
    """

    case: Case
    config_hash: str
    pins: dict[str, float]
    stats: dict[str, Interval]


def case_config(case: Case) -> dict[str, Any]:
    """Return the case's scenario as a validated config dict.

    Raises:
        RegressionInputError: If the file or an override cannot be used.
        models.scenario.ScenarioError: If the result is not a valid scenario.
    """
    try:
        raw = tomllib.loads(case.scenario_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise RegressionInputError(
            f"case {case.name!r}: cannot read {case.scenario_path} ({exc})"
        ) from None
    try:
        config = apply_overrides(raw, case.overrides, allow_new=True)
    except OverrideError as exc:
        raise RegressionInputError(f"case {case.name!r}: {exc}") from None
    scenario_from_dict(
        config, source=f"case {case.name!r} ({case.scenario} with its overrides)"
    )
    return config


def _open_executor(kind: str, workers: int | None, tasks: int) -> Executor:
    if kind == "serial":
        return SerialExecutor()
    if kind == "processes":
        return ProcessExecutor(workers or max(1, min(os.cpu_count() or 1, tasks)))
    raise RegressionInputError(f"executor must be serial or processes, got {kind!r}")


def run_cases(
    case_set: CaseSet,
    executor: str = "processes",
    workers: int | None = None,
    progress: bool = False,
) -> list[CaseRun]:
    """Run every case of ``case_set`` with its own seeds.

    Args:
        case_set: The cases.
        executor: ``"processes"`` (local worker processes shared by all cases)
            or ``"serial"``; results are the same either way.
        workers: Worker processes (default: CPU count, at most the number of
            replications of the largest case).
        progress: Show a progress bar per case on stderr.

    Returns:
        One run per case, in order.

    Raises:
        RegressionInputError: On a case that cannot be run, or a pin or guarded
            outcome the model does not report.
    """
    configs = [case_config(case) for case in case_set.cases]
    most = max(case.replications for case in case_set.cases)
    pool = _open_executor(executor, workers, most)
    runs = []
    try:
        for case, config in zip(case_set.cases, configs, strict=True):
            frame = run_experiment(
                replication_outcomes,
                config,
                replications=case.replications,
                base_seed=case.base_seed,
                executor=pool,
                progress=progress,
            )
            runs.append(_case_run(case, config, frame, case_set.confidence))
    finally:
        pool.close()
    return runs


def _case_run(case: Case, config: dict, frame, confidence: float) -> CaseRun:
    reported = list(frame.attrs["outcomes"])
    wanted = [*case.pins, *(g.outcome for g in case.guards)]
    missing = sorted(set(wanted) - set(reported))
    if missing:
        raise RegressionInputError(
            f"case {case.name!r}: the model reports no outcome named "
            f"{', '.join(missing)}; it reports {', '.join(reported)}"
        )
    first = frame.loc[frame["replication"] == 0].iloc[0]
    pins = {name: tidy(first[name]) for name in case.pins}
    stats = {g.outcome: mean_ci(frame[g.outcome], confidence) for g in case.guards}
    return CaseRun(case, content_hash(config), pins, stats)


# --- baselines -------------------------------------------------------------


def tidy(value: float) -> float:
    """Round to 10 significant digits (NaN and infinities pass through)."""
    value = float(value)
    if not math.isfinite(value) or value == 0.0:
        return value + 0.0
    return float(f"{value:.{SIGNIFICANT_DIGITS}g}")


def _json_number(value: float) -> float | int | None:
    value = tidy(value)
    if not math.isfinite(value):
        return None
    return int(value) if value.is_integer() and abs(value) < 2**53 else value


def baseline_entry(run: CaseRun) -> dict[str, Any]:
    """The baselines-file entry of one case run."""
    case = run.case
    outcomes = {}
    for name, interval in run.stats.items():
        outcomes[name] = {
            "mean": _json_number(interval.mean),
            "half_width": _json_number(interval.half_width),
            "n": interval.n,
        }
    return {
        "scenario": case.scenario,
        "overrides": {k: _plain(v) for k, v in case.overrides.items()},
        "replications": case.replications,
        "base_seed": case.base_seed,
        "config_hash": run.config_hash,
        "pins": {name: _json_number(v) for name, v in run.pins.items()},
        "outcomes": outcomes,
    }


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    return str(value)


def baselines_text(
    case_set: CaseSet, runs: Iterable[CaseRun], previous: Mapping | None = None
) -> str:
    """Return the baselines file for ``runs``, keeping other cases' entries.

    Entries of ``previous`` for cases of ``case_set`` that were not rerun are
    kept; entries of cases no longer in the cases file are dropped.

    Args:
        case_set: The whole cases file (not only the rerun cases).
        runs: Fresh runs of some or all cases.
        previous: The current baselines, if any.

    Returns:
        JSON text with sorted keys and a final newline.
    """
    entries = {}
    if previous and previous.get("confidence") == case_set.confidence:
        known = {c.name for c in case_set.cases}
        entries = {k: v for k, v in previous.get("cases", {}).items() if k in known}
    for run in runs:
        entries[run.case.name] = baseline_entry(run)
    document = {
        "about": f"Written by `{ACCEPT_COMMAND}`; review the diff before "
        "committing. Rules: models/regression.py.",
        "confidence": case_set.confidence,
        "cases": entries,
    }
    return json.dumps(document, indent=2, sort_keys=True, allow_nan=False) + "\n"


def load_baselines(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a baselines file.

    Raises:
        RegressionInputError: If it is missing or malformed.
    """
    path = Path(path)
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RegressionInputError(
            f"{path}: no baselines yet; create them with `{ACCEPT_COMMAND}`"
        ) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RegressionInputError(
            f"{path}: cannot read the baselines ({exc}); restore the file from "
            f"git or rewrite it with `{ACCEPT_COMMAND}`"
        ) from None
    if not isinstance(document, dict) or not isinstance(document.get("cases"), dict):
        raise RegressionInputError(
            f"{path}: not a baselines file (no 'cases' table); rewrite it with "
            f"`{ACCEPT_COMMAND}`"
        )
    return document


# --- comparison ------------------------------------------------------------


@dataclass(frozen=True)
class OutcomeCheck:
    """One guarded outcome compared with its baseline.

    Attributes:
        case: Case name.
        outcome: Outcome name.
        rule: The guard's rule.
        base_mean: Baseline mean (NaN: undefined).
        base_hw: Baseline half-width.
        new_mean: New mean.
        new_hw: New half-width.
        moved: ``new_mean - base_mean``.
        tolerance: ``max(base_hw + new_hw, min_tolerance)``.
        verdict: ``ok``, ``better`` or ``REGRESSED``.
    """

    case: str
    outcome: str
    rule: str
    base_mean: float
    base_hw: float
    new_mean: float
    new_hw: float
    moved: float
    tolerance: float
    verdict: str

    @property
    def failed(self) -> bool:
        """Whether this outcome regressed."""
        return self.verdict == "REGRESSED"


@dataclass(frozen=True)
class PinCheck:
    """One deterministic pin compared exactly.

    Attributes:
        case: Case name.
        outcome: Outcome name.
        baseline: Replication 0's baseline value.
        new: Replication 0's new value.
    """

    case: str
    outcome: str
    baseline: float
    new: float

    @property
    def moved(self) -> bool:
        """Whether the pin moved (NaN equals NaN here)."""
        if math.isnan(self.baseline) and math.isnan(self.new):
            return False
        return self.baseline != self.new


@dataclass
class CaseCheck:
    """A case's comparison with its baseline.

    Attributes:
        case: Case name.
        outcomes: The guarded outcomes.
        pins: The pins.
        notes: Things worth knowing that are not failures.
    """

    case: str
    outcomes: list[OutcomeCheck] = field(default_factory=list)
    pins: list[PinCheck] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def failures(self) -> list[str]:
        """One line per regressed outcome or moved pin, naming it."""
        lines = []
        for check in self.outcomes:
            if check.failed:
                lines.append(
                    f"{self.case}: {check.outcome} regressed: "
                    f"{_num(check.base_mean)} -> {_num(check.new_mean)}, moved by "
                    f"{_moved(check.moved, check.base_mean)}, beyond the "
                    f"tolerance {_num(check.tolerance)} (rule {check.rule})"
                )
        for pin in self.pins:
            if pin.moved:
                lines.append(
                    f"{self.case}: pin moved: {pin.outcome} {_num(pin.baseline)} "
                    f"-> {_num(pin.new)} (replication 0 must match exactly)"
                )
        return lines


def compare_outcome(
    guard: Guard, case: str, baseline: Interval, new: Interval
) -> OutcomeCheck:
    """Compare one outcome's new interval with its baseline's (module rules).

    Args:
        guard: The outcome and its rule.
        case: Case name (for the report).
        baseline: Baseline mean and half-width.
        new: New mean and half-width.

    Returns:
        The comparison, with its verdict.
    """
    m0, h0 = tidy(baseline.mean), tidy(baseline.half_width)
    m1, h1 = tidy(new.mean), tidy(new.half_width)
    if math.isnan(m0) or math.isnan(m1):
        verdict = "ok" if math.isnan(m0) and math.isnan(m1) else "REGRESSED"
        return OutcomeCheck(
            case, guard.outcome, guard.rule, m0, h0, m1, h1, math.nan, math.nan, verdict
        )
    moved = m1 - m0
    tolerance = max(h0 + h1, guard.min_tolerance)
    if abs(moved) <= tolerance:
        verdict = "ok"
    elif guard.rule == "two_sided":
        verdict = "REGRESSED"
    elif (moved > 0) == (guard.rule == "higher_is_better"):
        verdict = "better"
    else:
        verdict = "REGRESSED"
    return OutcomeCheck(
        case, guard.outcome, guard.rule, m0, h0, m1, h1, moved, tolerance, verdict
    )


def _stored(value: Any, default: float) -> float:
    return default if value is None else float(value)


def _entry_problem(case: Case, entry: Mapping[str, Any]) -> str | None:
    changed = [
        f"{key} {entry.get(key)!r} -> {getattr(case, key)!r}"
        for key in ("replications", "base_seed")
        if entry.get(key) != getattr(case, key)
    ]
    absent = [p for p in case.pins if p not in entry.get("pins", {})]
    absent += [
        g.outcome for g in case.guards if g.outcome not in entry.get("outcomes", {})
    ]
    if absent:
        changed.append(f"no baseline for {', '.join(absent)}")
    return "; ".join(changed) or None


def validate_baselines(case_set: CaseSet, baselines: Mapping[str, Any]) -> None:
    """Check that the baselines fit the cases, before anything is run.

    Raises:
        RegressionInputError: If a case has no baseline, the confidence level
            differs, or an entry was made with other seeds or replications or
            lacks a pin or outcome the case now guards.
    """
    if baselines.get("confidence") != case_set.confidence:
        raise RegressionInputError(
            f"the baselines were made at confidence {baselines.get('confidence')}, "
            f"the cases ask for {case_set.confidence}; run `{ACCEPT_COMMAND}`"
        )
    stored = baselines["cases"]
    missing = [case.name for case in case_set.cases if case.name not in stored]
    if missing:
        raise RegressionInputError(
            f"no baseline for case(s) {', '.join(missing)}; run `{ACCEPT_COMMAND} "
            + " ".join(f"--case {m}" for m in missing)
            + "` and review the diff"
        )
    problems = []
    for case in case_set.cases:
        problem = _entry_problem(case, stored[case.name])
        if problem:
            problems.append(
                f"case {case.name!r} does not match its baseline ({problem}); if "
                f"the change is intended, run `{ACCEPT_COMMAND} --case "
                f"{case.name}` and review the diff"
            )
    if problems:
        raise RegressionInputError("\n".join(problems))


def comparable_checks(
    runs: Sequence[CaseRun], baselines: Mapping[str, Any] | None, confidence: float
) -> tuple[list[CaseCheck], list[str]]:
    """Compare the runs that still fit an old baseline, for ``--accept``.

    Returns:
        The checks, and one line per run that could not be compared.
    """
    checks, skipped = [], []
    stored = (baselines or {}).get("cases", {})
    same_level = (baselines or {}).get("confidence") == confidence
    for run in runs:
        entry = stored.get(run.case.name)
        if entry is None:
            problem = "no old baseline"
        elif not same_level:
            problem = "made at another confidence level"
        else:
            problem = _entry_problem(run.case, entry)
        if problem:
            skipped.append(f"{run.case.name}: {problem}")
        else:
            checks.append(check_run(run, entry))
    return checks, skipped


def check_run(run: CaseRun, entry: Mapping[str, Any]) -> CaseCheck:
    """Compare one fresh run with its baselines entry (already validated)."""
    case = run.case
    result = CaseCheck(case.name)
    if entry.get("config_hash") != run.config_hash:
        result.notes.append(
            f"{case.name}: the scenario or its overrides changed since the "
            "baseline; outcomes compared all the same"
        )
    for guard in case.guards:
        stored = entry["outcomes"][guard.outcome]
        baseline = Interval(
            _stored(stored.get("mean"), math.nan),
            _stored(stored.get("half_width"), math.inf),
            int(stored.get("n", 0)),
        )
        result.outcomes.append(
            compare_outcome(guard, case.name, baseline, run.stats[guard.outcome])
        )
    for name in case.pins:
        result.pins.append(
            PinCheck(
                case.name, name, _stored(entry["pins"][name], math.nan), run.pins[name]
            )
        )
    return result


def check_runs(
    case_set: CaseSet, runs: Sequence[CaseRun], baselines: Mapping[str, Any]
) -> list[CaseCheck]:
    """Compare fresh runs of ``case_set`` with the baselines.

    Raises:
        RegressionInputError: As :func:`validate_baselines`.
    """
    validate_baselines(case_set, baselines)
    return [check_run(run, baselines["cases"][run.case.name]) for run in runs]


# --- report ----------------------------------------------------------------


def _num(value: float) -> str:
    if math.isnan(value):
        return "n/a"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    if value.is_integer() or abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.4g}"


def _moved(moved: float, base: float) -> str:
    if math.isnan(moved):
        return "n/a"
    sign = "+" if moved >= 0 else "-"
    text = f"{sign}{_num(abs(moved))}"
    if base and math.isfinite(base):
        text += f" ({moved / abs(base):+.1%})"
    return text


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    widths = [
        max(len(str(x)) for x in column) for column in zip(header, *rows, strict=True)
    ]
    lines = []
    for row in [header, *rows]:
        cells = [str(c).ljust(w) for c, w in zip(row, widths, strict=True)]
        lines.append("  ".join(cells).rstrip())
    lines.insert(1, "  ".join("-" * w for w in widths))
    return lines


def format_report(checks: Sequence[CaseCheck]) -> str:
    """The comparison as text: an outcome table, a pin table, notes, verdict."""
    rows = [
        (
            c.case,
            c.outcome,
            c.rule.replace("_", "-"),
            f"{_num(c.base_mean)} ± {_num(c.base_hw)}",
            f"{_num(c.new_mean)} ± {_num(c.new_hw)}",
            _moved(c.moved, c.base_mean),
            _num(c.tolerance),
            c.verdict,
        )
        for check in checks
        for c in check.outcomes
    ]
    lines = ["Guarded outcomes (mean ± t half-width over the replications)"]
    lines += _table(
        (
            "case",
            "outcome",
            "rule",
            "baseline",
            "new",
            "moved by",
            "tolerance",
            "verdict",
        ),
        rows,
    )
    pins = [
        (p.case, p.outcome, _num(p.baseline), _num(p.new), "MOVED" if p.moved else "ok")
        for check in checks
        for p in check.pins
    ]
    if pins:
        lines += ["", "Pins (replication 0, exact)"]
        lines += _table(("case", "pin", "baseline", "new", "verdict"), pins)
    notes = [n for check in checks for n in check.notes]
    if notes:
        lines += ["", *(f"note: {n}" for n in notes)]
    failures = [f for check in checks for f in check.failures()]
    lines.append("")
    if failures:
        lines.append(f"FAILED: {len(failures)} regression(s)")
        lines += [f"  {f}" for f in failures]
        lines.append(
            f"If the change is intended, run `{ACCEPT_COMMAND}` and commit the "
            "reviewed diff of the baselines."
        )
    else:
        total = sum(len(c.outcomes) + len(c.pins) for c in checks)
        lines.append(f"passed: {len(checks)} case(s), {total} check(s)")
    return "\n".join(lines)
