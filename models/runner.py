"""Running scenarios: one run with all its tables, or one replication's outcomes."""

from __future__ import annotations

import contextlib
import gc
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from models.control import ALERT_TABLE
from models.outcomes import key_outcomes, tables
from models.presales_model import PresalesModel
from models.scenario import Scenario, scenario_from_dict

log = logging.getLogger(__name__)


@dataclass
class RunResult:
    """A finished run: its model, tables and key outcomes."""

    model: PresalesModel
    tables: dict[str, pd.DataFrame]
    outcomes: dict[str, float]


def run_scenario(
    scenario: Scenario,
    seed: int | np.random.SeedSequence | None = None,
    progress: bool = False,
) -> RunResult:
    """Simulate ``scenario`` to its horizon and collect the results."""
    with _patient_collector():
        return _run(scenario, seed, progress)


@contextlib.contextmanager
def _patient_collector():
    """Collect cyclic garbage less often during a run (results do not change).

    A run allocates millions of short-lived objects and few cycles; the default
    thresholds spend about a tenth of the run in the collector.
    """
    before = gc.get_threshold()
    gc.set_threshold(50_000, 20, 20)
    try:
        yield
    finally:
        gc.set_threshold(*before)


def _run(
    scenario: Scenario,
    seed: int | np.random.SeedSequence | None,
    progress: bool,
) -> RunResult:
    model = PresalesModel(scenario, seed)
    if progress:
        from tqdm import tqdm

        with tqdm(
            total=model.horizon_days,
            unit="day",
            desc=scenario.scenario.name,
            leave=False,
        ) as bar:
            model.run(progress=lambda _day: bar.update(1))
    else:
        model.run()
    result_tables = tables(model)
    result_tables["alerts"] = pd.DataFrame(model.control.alerts, columns=ALERT_TABLE)
    result_tables["engineers_board"] = model.datacollector.get_table_dataframe(
        "engineers"
    )
    return RunResult(model, result_tables, key_outcomes(model, result_tables))


def replication_outcomes(
    config: dict[str, Any], seed: np.random.SeedSequence
) -> dict[str, float]:
    """One replication of a scenario given as a plain dict (for experiments)."""
    scenario = scenario_from_dict(config, source="<experiment config>")
    return run_scenario(scenario, seed).outcomes


def write_ledgers(events: pd.DataFrame, out: Path) -> dict[str, Path]:
    """Write the ticket ledger and the hours by engineer x stage.

    Both are rebuilt from the event log alone (``sim.ledger``), exactly as
    ``presales-sim board`` rebuilds them from a company's own log.
    """
    from sim.ledger import hours_by_engineer_stage, ticket_ledger

    paths = {
        "ledger_tickets": out / "ledger_tickets.csv",
        "hours_by_engineer_stage": out / "hours_by_engineer_stage.csv",
    }
    ticket_ledger(events).to_csv(paths["ledger_tickets"], index=False)
    hours_by_engineer_stage(events).to_csv(paths["hours_by_engineer_stage"])
    return paths


def write_outputs(result: RunResult, out: Path) -> dict[str, Path]:
    """Write every table as CSV, the outcomes as JSON, and the figures."""
    out.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    for name, frame in result.tables.items():
        path = out / f"{name}.csv"
        frame.to_csv(path, index=False)
        written[name] = path
    path = out / "summary.json"
    path.write_text(json.dumps(result.outcomes, indent=2, sort_keys=True) + "\n")
    written["summary"] = path
    daily = result.model.datacollector.get_model_vars_dataframe()
    daily.index.name = "day"
    daily.to_csv(out / "daily.csv")
    written["daily"] = out / "daily.csv"
    written.update(write_ledgers(result.tables["events"], out))
    from models.report_figures import write_figures

    written.update(write_figures(result, out / "figures"))
    return written
