"""Inputs of experiments: scenario configs, overrides, variants, targets, executors.

A scenario config is the plain dict a scenario TOML file parses to; dates stay
``datetime.date`` objects, which :func:`sim.overrides.content_hash` and pickling
to process or Dask workers both handle. The parsers here read the text forms
the command line takes (``path=value,...``, ``NAME:path=value,...``,
``outcome>=value@confidence``), so notebooks can use the same spellings.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import os
import re
import tomllib
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from models.runner import replication_outcomes
from models.scenario import load_scenario, scenario_from_dict
from sim import experiment as harness
from sim.executors import EXECUTOR_NAMES, DaskExecutor, Executor, ProcessExecutor
from sim.overrides import apply_overrides, parse_assignment
from sim.seeds import replication_seed
from sim.store import ResultStore

__all__ = [
    "ScenarioLike",
    "StoreLike",
    "complete_config",
    "load_config",
    "outcome_names",
    "parse_assignments",
    "parse_target",
    "parse_variant",
    "prepared_config",
    "base_seed",
    "check_variant_configs",
    "code_fingerprint",
    "executor_for",
    "open_store",
]

ScenarioLike = str | os.PathLike[str] | Mapping[str, Any]
"""A scenario file path or a config dict."""

StoreLike = ResultStore | str | os.PathLike[str] | None
"""A result store, its folder, or None for no store."""


def load_config(path: str | os.PathLike[str], complete: bool = True) -> dict[str, Any]:
    """Read a scenario file into a plain config dict, validated.

    TOML dates stay ``datetime.date`` objects, which content hashes and
    pickling (to process or Dask workers) both handle.

    Args:
        path: Scenario TOML file.
        complete: Fill in every field the file leaves at its default (see
            :func:`complete_config`), so that any setting can be overridden
            by its dotted path.

    Returns:
        The config.

    Raises:
        ScenarioError: If the file cannot be read or is not a valid scenario.
    """
    path = Path(path)
    scenario = load_scenario(path)
    if complete:
        return _plain(scenario.model_dump(mode="python"))
    return tomllib.loads(path.read_text(encoding="utf-8"))


def complete_config(config: Mapping[str, Any], source: str = "<config>") -> dict:
    """Return a validated config with every default written out.

    A scenario file may leave whole tables out (``[dispatch]``, say); a
    dotted-path override such as ``dispatch.policy=direct`` needs the key to
    exist, so experiments work on the completed config. The content hash then
    covers the defaults too: results stored under one set of defaults are not
    reused after a default changes.

    Args:
        config: A scenario config.
        source: Label for error messages.

    Returns:
        A new dict; dates stay dates, pairs become lists.

    Raises:
        ScenarioError: If the config is not a valid scenario.
    """
    return _plain(scenario_from_dict(dict(config), source).model_dump(mode="python"))


def _plain(value: Any) -> Any:
    """Nested dicts and lists only (pydantic dumps pairs as tuples)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _config_of(scenario: ScenarioLike) -> dict:
    if isinstance(scenario, Mapping):
        return complete_config(copy.deepcopy(dict(scenario)))
    return load_config(scenario)


def prepared_config(
    scenario: ScenarioLike, overrides: Mapping[str, Any] | None
) -> tuple[dict, str]:
    """Return the config with overrides applied and validated, and its label.

    Args:
        scenario: Scenario file or config dict.
        overrides: Dotted path to value, applied before any variant.

    Returns:
        ``(config, label)``; the label names the file (or ``<config>``).

    Raises:
        ScenarioError: If the scenario, or it with the overrides, is invalid.
        OverrideError: If an override path does not exist.
    """
    label = "<config>" if isinstance(scenario, Mapping) else str(scenario)
    config = apply_overrides(_config_of(scenario), overrides)
    if overrides:
        scenario_from_dict(config, source=f"{label} with its overrides")
    return config, label


def check_variant_configs(
    config: dict, label: str, variants: Iterable[harness.Variant]
) -> None:
    """Validate every variant's config, so that a bad one fails before any run.

    Args:
        config: The base config.
        label: The scenario's label, for messages.
        variants: The variants.

    Raises:
        ScenarioError: Naming the first variant whose config is invalid.
        OverrideError: If a variant's path does not exist.
    """
    for variant in variants:
        if variant.overrides:
            scenario_from_dict(
                apply_overrides(config, variant.overrides),
                source=f"{label}, variant {variant.name!r}",
            )


def base_seed(config: Mapping[str, Any], seed: int | None) -> int:
    """Return the experiment's base seed: ``seed``, else the scenario's own.

    Args:
        config: A valid scenario config.
        seed: An explicit base seed, or None.

    Returns:
        The base seed.
    """
    if seed is not None:
        return int(seed)
    return scenario_from_dict(config).scenario.seed


def outcome_names(
    config: Mapping[str, Any], runner: Callable[..., Mapping[str, float]] | None = None
) -> list[str]:
    """Return the names of the outcomes one replication reports.

    Runs the scenario for one day, which costs well under a second.

    Args:
        config: A scenario config.
        runner: The experiment's runner (default
            :func:`models.runner.replication_outcomes`).

    Returns:
        Outcome names in the model's order.
    """
    short = apply_overrides(
        config,
        {"scenario.horizon_days": 1, "scenario.warmup_days": 0},
        allow_new=True,
    )
    return list((runner or replication_outcomes)(short, replication_seed(0, 0)))


# ---------------------------------------------------------------- parsing

_PATH_AHEAD = r"[A-Za-z_][\w-]*(?:\[-?\d+\])*(?:\.[A-Za-z_][\w-]*(?:\[-?\d+\])*)*\s*="
_SPLIT = re.compile(r",\s*(?=" + _PATH_AHEAD + ")")
_TARGET = re.compile(
    r"^\s*(?P<outcome>[^\s<>=@]+)\s*(?P<op>>=|<=)\s*(?P<value>[-+.\deE]+%?)"
    r"\s*(?:@\s*(?P<conf>[.\d]+%?))?\s*$"
)


def parse_assignments(text: str) -> dict[str, Any]:
    """Parse ``"path=value,path=value"`` into overrides.

    A comma starts a new assignment only when a ``path=`` follows it, so a
    value may itself hold commas (``a.b=[1, 2]``). Values are read as TOML,
    else taken as bare strings (see :func:`sim.overrides.parse_assignment`).

    Args:
        text: The assignments.

    Returns:
        Path to value, in the order given.

    Raises:
        OverrideError: If an assignment has no ``=`` or a malformed path.
    """
    overrides: dict[str, Any] = {}
    for part in _SPLIT.split(text.strip()):
        path, value = parse_assignment(part)
        overrides[path] = value
    return overrides


def parse_variant(text: str) -> harness.Variant:
    """Parse a variant given as ``NAME:path=value,...`` (or without a name).

    Args:
        text: E.g. ``"direct:dispatch.policy=direct"``; with no name the
            variant is named after its overrides.

    Returns:
        The variant.

    Raises:
        ValueError: If the text holds no assignment or the name is empty.
    """
    head, sep, rest = text.partition(":")
    if sep and "=" not in head:
        name = head.strip()
        if not name:
            raise ValueError(f"variant {text!r} has an empty name before ':'")
    else:
        name, rest = "", text
    if "=" not in rest:
        raise ValueError(f"variant {text!r} sets nothing; write NAME:path=value,...")
    overrides = parse_assignments(rest)
    return harness.Variant(name or harness.variant_name(overrides), overrides)


def _number(text: str) -> float:
    return float(text[:-1]) / 100.0 if text.endswith("%") else float(text)


def parse_target(text: str, confidence: float = 0.95) -> harness.Target:
    """Parse a target such as ``"on_time_share>=0.95"`` or ``"win_rate>=60%@0.9"``.

    Args:
        text: ``outcome`` then ``>=`` or ``<=`` then the threshold (``%``
            allowed), optionally ``@`` and the one-sided confidence level.
        confidence: Confidence level when the text gives none.

    Returns:
        The target.

    Raises:
        ValueError: If the text does not have that form.
    """
    match = _TARGET.match(text)
    if match is None:
        raise ValueError(
            f"target {text!r} must look like outcome>=value or outcome<=value, "
            "optionally followed by @confidence (e.g. on_time_share>=0.95@0.95)"
        )
    level = _number(match["conf"]) if match["conf"] else confidence
    return harness.Target(match["outcome"], match["op"], _number(match["value"]), level)


# ---------------------------------------------------------------- executors


@contextlib.contextmanager
def executor_for(
    executor: Executor | str | None, dask_address: str | None, workers: int | None
) -> Iterator[Executor | str]:
    """Yield the executor to hand to the harness; ones made here are closed after.

    Args:
        executor: An executor object (used as is), a name from
            ``EXECUTOR_NAMES``, or None for local processes (Dask when an
            address is given).
        dask_address: Scheduler address of an existing Dask cluster; without
            it the dask executor starts a private local cluster on loopback.
        workers: Worker processes for local processes or the local cluster
            (default all cores).

    Yields:
        An executor, or a name the harness opens and closes itself.

    Raises:
        ValueError: On an unknown name, an address without the dask
            executor, or Dask not installed.
        OSError: If the scheduler at ``dask_address`` cannot be reached.
    """
    if executor is None:
        executor = "dask" if dask_address else "processes"
    if not isinstance(executor, str):
        yield executor
        return
    if executor not in EXECUTOR_NAMES:
        raise ValueError(
            f"unknown executor {executor!r}; choose one of {', '.join(EXECUTOR_NAMES)}"
        )
    if dask_address and executor != "dask":
        raise ValueError("a Dask scheduler address needs the dask executor")
    if executor == "dask":
        with _dask(dask_address, workers) as made:
            yield made
    elif executor == "processes" and workers:
        with ProcessExecutor(workers=workers) as made:
            yield made
    else:
        yield executor


@contextlib.contextmanager
def _dask(address: str | None, workers: int | None) -> Iterator[DaskExecutor]:
    try:
        from distributed import Client
    except ImportError as exc:
        raise ValueError(
            "the dask executor needs dask.distributed; install presales-sim[dask]"
        ) from exc
    if address is None:
        with DaskExecutor(n_workers=workers or os.cpu_count() or 1) as made:
            yield made
        return
    client = Client(address, timeout="15s")
    try:
        yield DaskExecutor(client=client)
    finally:
        client.close()


_PRESENTATION = ("cli", "experiment_report", "report_figures", "figures")
"""Modules that only present results; editing them keeps stored results."""


def code_fingerprint() -> str:
    """Return a short hash of the model's and the harness's source code.

    Stored results are keyed by scenario content, not by code; a store folder
    per fingerprint keeps results of an older model from being reused after
    the code changes, while a resumed run of the same code finds its own.
    Modules that only present results (command line, reports, figures) are
    left out.

    Returns:
        12 hexadecimal characters.
    """
    digest = hashlib.sha256()
    for package in (Path(__file__).parent, Path(__file__).parent.parent / "sim"):
        for source in sorted(package.glob("*.py")):
            if source.stem.startswith(_PRESENTATION):
                continue
            digest.update(source.name.encode("utf-8") + b"\0")
            digest.update(source.read_bytes())
    return digest.hexdigest()[:12]


def open_store(store: StoreLike) -> ResultStore | None:
    """Return the result store to use for a folder (or pass a store on).

    Args:
        store: A :class:`~sim.store.ResultStore` (used as is), a folder, or
            None. A folder holds one sub-folder per :func:`code_fingerprint`,
            ``model-<fingerprint>``.

    Returns:
        The store, or None.
    """
    if store is None or isinstance(store, ResultStore):
        return store
    return ResultStore(Path(store) / f"model-{code_fingerprint()}")
