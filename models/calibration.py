"""Demand and sales reps of a scenario, calibrated from a CRM export.

:func:`calibrate` reads an export (see :mod:`models.crm`) and returns the
``[demand]`` table and the individual reps of a scenario file. One demand
stream is made per region x solution, where the region is the regional office
of the deal's agent and the solution is the product series.

Arrivals. An opportunity arrives at its engage date. The export holds no deal
closed before its first close date, so a deal engaged earlier appears only if
it was still open then: arrivals before that date are incomplete. Arrivals are
therefore counted over the window from the first close date (or the first
engage date, if later) to the last date in the export. ``arrivals_per_month[m]``
is the number of arrivals in calendar month ``m`` divided by the months of
``m`` the window covers, summed over the years (a window covering October 2016
and October 2017 in full gives Octobers an exposure of 2). A calendar month
covered for less than half a month in total is filled with the stream's mean
monthly rate. Prospecting deals have no engage date: they are counted in the
stream's ``opportunities`` but not in arrivals, since a deal still in
prospecting arrives, in this sense, after the export ends; counting the stock
would add future engagements to the observed ones. Deals engaged before the
window still count for win rate, deal value and cycle.

Observed cohort. Win rate and cycle length come from the closed deals engaged
in the window early enough that even the longest cycle of the export would have
closed inside it: engaged on or after the window's start and at least that
longest cycle before its end. Outside that cohort the export sees a deal only
if its cycle fits the days left: deals engaged before the first close date
appear only with long cycles (left truncation), deals engaged near the end only
with short ones (right censoring). Both skew the cycle lengths, and, since long
deals are won more often, the win rate too. An export whose window is shorter
than its longest cycle has no such cohort; all closed deals are used then, and
a note says so. Deals of the cohort still open at the end (older than the
longest cycle) have no cycle and no outcome and are left out of both figures.

Base win rate. The export's win rate is taken as the base rate of the
scenario, the rate at the service the export's deals got. The export holds no
presales service data, so that service cannot be told apart from the model's
reference service (mean rating ``win_reference_rating``, no delay, nothing
unserved); the simulated win rate falls below the base by whatever the
scenario's engineer side serves worse than that reference.

Pooled estimation. A stream with fewer than ``MIN_ARRIVALS`` arrivals in the
window keeps its own mean rate but takes the monthly profile of all streams.
Win rate and cycle length use the stream's own deals when it has at least
``MIN_DEALS`` closed deals with the figure, else the solution's (all regions)
when that has enough, else all deals. Deal value falls back to the solution's
won deals whenever the stream has too few (any number of them beats mixing
series of different prices), and to all won deals only when the series has
none. Every fallback is stated in the report's notes.

Lognormal parameters are maximum-likelihood: the mean and the population
standard deviation of the logarithms. The same samples also give empirical
quantiles at probabilities 0, 0.025, ..., 1 (``QUANTILE_COUNT`` of them,
numpy's linear interpolation between order statistics, six significant
digits), which the simulation draws from instead of the lognormal: one
lognormal cannot follow a series whose products sell at distinct price points,
nor cycles with a short and a long hump. The lognormal figures stay in the
file to document the fit.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from models.crm import (
    PIPELINE,
    CrmImportError,
    ImportReport,
    RowIssue,
    read_crm_export,
    write_report_csv,
)
from models.scenario import QUANTILE_COUNT

__all__ = [
    "Calibration",
    "CrmImportError",
    "ImportReport",
    "RowIssue",
    "calibrate",
    "merge_calibration",
    "write_report_csv",
]

logger = logging.getLogger(__name__)

MIN_DEALS = 20  # deals behind a stream's own win rate, deal value or cycle
MIN_ARRIVALS = 60  # arrivals behind a stream's own monthly profile
MIN_EXPOSURE = 0.5  # months of a calendar month observed before it has its own rate
KEY_ACCOUNT_REVENUE = 1000.0  # account revenue (millions) of a key account
QUOTA_UPLIFT = 1.1  # quota over the team's mean quarterly won revenue
QUOTA_STEP = 1000  # quotas are rounded to this many currency units
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct",
          "Nov", "Dec")


@dataclass
class Calibration:
    """Scenario figures calibrated from a CRM export.

    Attributes:
        demand: The ``[demand]`` table of a scenario file (mode, source,
            start_month and one stream per region x solution).
        reps: One ``[[reps.individuals]]`` entry per sales agent with deals.
        report: What happened to every row of the export, plus notes on
            pooled estimates.
    """

    demand: dict[str, Any]
    reps: list[dict[str, Any]]
    report: ImportReport

    def to_scenario_tables(self) -> dict[str, Any]:
        """The tables to write into a scenario file: ``demand`` and ``reps``."""
        return {"demand": self.demand, "reps": self.reps}


@dataclass(frozen=True)
class _Window:
    """Where arrivals are fully observed: dates and exposure per month."""

    start: pd.Timestamp
    end: pd.Timestamp
    exposure: np.ndarray  # months observed, per calendar month Jan..Dec


def calibrate(crm_dir: Path) -> Calibration:
    """Calibrate demand streams and reps from the CRM export in ``crm_dir``.

    Rep rules: an agent's *large-account share* is the share of the agent's
    opportunities with a known account that are with accounts whose revenue is
    at least ``KEY_ACCOUNT_REVENUE`` (millions). An agent is ``"key_account"``
    when that share is above half and above the median share of all agents
    (the agents who lean most to large accounts), else ``"commercial"``.
    An agent's quarterly won revenue is the won revenue over
    the quarters the export's close dates span. The quota is the mean of that
    over the agents of the same manager (of the region, when the manager is
    unknown) times ``QUOTA_UPLIFT``, rounded to the nearest ``QUOTA_STEP`` and
    never below it; attainment is the agent's quarterly won revenue over the
    quota.

    Args:
        crm_dir: Folder of the export (``sales_pipeline.csv`` and friends).

    Returns:
        The demand table, the reps and the import report.

    Raises:
        CrmImportError: The export cannot be read, or lacks the closed, won or
            dated deals the figures need.
    """
    crm_dir = Path(crm_dir)
    export = read_crm_export(crm_dir)
    deals, notes = export.pipeline, export.report.notes
    _require_figures(deals, export.report)
    window = _arrival_window(deals, notes)
    deals = deals.assign(cohort=_observed_cohort(deals, window, notes))
    profile = _profile(_arrivals(deals, window), window)
    _note_thin_months(profile, window, notes)
    regions = sorted(export.teams["regional_office"].unique())
    streams = [
        _stream(deals, region, series, window, profile, notes)
        for region in regions
        for series in sorted(deals["series"].unique())
    ]
    demand = {"mode": "calibrated",
              "source": f"{crm_dir.name}, {len(deals)} opportunities",
              "start_month": 1, "streams": streams}
    reps = _reps(deals, export.teams, export.accounts, notes)
    logger.info("calibrated %d streams and %d reps from %s", len(streams),
                len(reps), crm_dir)
    return Calibration(demand, reps, export.report)


def _require_figures(deals: pd.DataFrame, report: ImportReport) -> None:
    needs = [
        (deals["deal_stage"].isin(["Won", "Lost"]), "a Won or Lost deal",
         "win rates"),
        (deals["value"].notna(), "a Won deal with a positive close_value",
         "deal values"),
        (deals["cycle_days"].notna(), "a closed deal with engage_date and "
         "close_date", "sales cycles"),
    ]
    for mask, what, figure in needs:
        if not mask.any():
            raise CrmImportError(f"{PIPELINE}: no usable row is {what}; {figure} "
                                 "need at least one; add such deals to the export",
                                 report)


# -- arrivals ------------------------------------------------------------------


def _exposure(start: pd.Timestamp, end: pd.Timestamp) -> np.ndarray:
    """Months covered by ``[start, end]`` per calendar month, over all years."""
    days = pd.date_range(start, end, freq="D")
    return np.bincount(days.month - 1, weights=1.0 / days.days_in_month,
                       minlength=12)


def _arrival_window(deals: pd.DataFrame, notes: list[str]) -> _Window:
    engage, close = deals["engage"].dropna(), deals["close"].dropna()
    if engage.empty:
        raise CrmImportError(f"{PIPELINE}: no usable row has an engage_date "
                             "(YYYY-MM-DD); arrivals need engage dates")
    start = max(engage.min(), close.min()) if not close.empty else engage.min()
    end = max(engage.max(), close.max()) if not close.empty else engage.max()
    exposure = _exposure(start, end)
    early = int((engage < start).sum())
    notes.append(f"arrivals counted from {start:%Y-%m-%d} to {end:%Y-%m-%d}; "
                 f"{early} opportunities engaged before the first close date are "
                 "left out of arrival rates (earlier arrivals are incomplete)")
    blank = [MONTHS[m] for m in range(12) if exposure[m] < MIN_EXPOSURE]
    if blank:
        notes.append(f"arrivals for {', '.join(blank)}: not observed in the window; "
                     "filled with each stream's mean monthly rate")
    return _Window(start, end, exposure)


def _arrivals(deals: pd.DataFrame, window: _Window) -> np.ndarray:
    """Arrivals of ``deals`` in the window, per calendar month."""
    engage = deals["engage"]
    inside = engage[(engage >= window.start) & (engage <= window.end)]
    return np.bincount(inside.dt.month - 1, minlength=12).astype(float)


def _profile(counts: np.ndarray, window: _Window) -> np.ndarray:
    """Monthly rates of ``counts``; unobserved months get the mean rate."""
    level = counts.sum() / window.exposure.sum()
    seen = window.exposure >= MIN_EXPOSURE
    rates = np.full(12, level)
    rates[seen] = counts[seen] / window.exposure[seen]
    return rates


def _note_thin_months(profile: np.ndarray, window: _Window,
                      notes: list[str]) -> None:
    """Name observed months far below the others: perhaps under-listed."""
    seen = window.exposure >= MIN_EXPOSURE
    if not seen.any():
        return
    typical = float(np.median(profile[seen]))
    thin = [MONTHS[m] for m in range(12) if seen[m] and profile[m] < typical / 2]
    if thin:
        notes.append(f"arrivals for {', '.join(thin)}: below half the median month "
                     f"({typical:.0f} arrivals); the export may under-list deals "
                     "engaged then; check before relying on those months")


def _stream_arrivals(counts: np.ndarray, window: _Window, profile: np.ndarray,
                     label: str, notes: list[str]) -> np.ndarray:
    if counts.sum() >= MIN_ARRIVALS:
        return _profile(counts, window)
    level = counts.sum() / window.exposure.sum()
    shape = profile / profile.mean() if profile.mean() > 0 else np.ones(12)
    notes.append(f"{label}: arrivals use the monthly profile of all streams "
                 f"({int(counts.sum())} arrivals in the window, fewer than "
                 f"{MIN_ARRIVALS})")
    return level * shape


# -- one stream ----------------------------------------------------------------


def _stream(deals: pd.DataFrame, region: str, series: str, window: _Window,
            profile: np.ndarray, notes: list[str]) -> dict[str, Any]:
    label = f"{region}/{series}"
    own = deals[(deals["region"] == region) & (deals["series"] == series)]
    solution = deals[deals["series"] == series]
    levels = [(label, own), (f"solution {series}", solution), ("all deals", deals)]
    arrivals = _stream_arrivals(_arrivals(own, window), window, profile, label,
                                notes)
    win = _pick(levels, _outcomes, "win_rate", "closed deals of the observed "
                "cohort", notes)
    values = _pick(levels, _values, "deal value", "won deals", notes,
                   any_solution=True)
    cycles = _pick(levels, _cycles, "cycle", "closed deals of the observed cohort",
                   notes)
    value_mu, value_sigma = _lognormal(values)
    cycle_mu, cycle_sigma = _lognormal(cycles)
    return {
        "region": region,
        "solution": series,
        "arrivals_per_month": [round(float(a), 4) for a in arrivals],
        "win_rate": round(float(win.mean()), 4),
        "deal_value_mu": value_mu,
        "deal_value_sigma": value_sigma,
        "cycle_days_mu": cycle_mu,
        "cycle_days_sigma": cycle_sigma,
        "deal_value_quantiles": _quantiles(values),
        "cycle_days_quantiles": _quantiles(cycles),
        "opportunities": len(own),
    }


def _observed_cohort(deals: pd.DataFrame, window: _Window,
                     notes: list[str]) -> pd.Series:
    """Closed deals whose cycle the window would show whatever its length."""
    closed = deals["deal_stage"].isin(["Won", "Lost"])
    longest = deals["cycle_days"].max()
    engage = deals["engage"]
    last = window.end - pd.Timedelta(days=float(longest))
    cohort = closed & (engage >= window.start) & (engage <= last)
    if not cohort.any():
        notes.append("win rate and cycle: no deal engaged from "
                     f"{window.start:%Y-%m-%d} to {window.end:%Y-%m-%d} less the "
                     "longest cycle "
                     f"({longest:.0f} days); all closed deals used, so long cycles "
                     "may be over- or under-represented")
        return closed
    notes.append(f"win rate and cycle from the {int(cohort.sum())} closed deals "
                 f"engaged {window.start:%Y-%m-%d} to {last:%Y-%m-%d} (the longest "
                 f"cycle, {longest:.0f} days, before the export's end); "
                 f"{int((closed & ~cohort).sum())} closed deals outside it are "
                 "left out (their cycles are cut by the export's window)")
    return cohort


def _outcomes(deals: pd.DataFrame) -> np.ndarray:
    closed = deals["cohort"]
    return (deals.loc[closed, "deal_stage"] == "Won").to_numpy(dtype=float)


def _values(deals: pd.DataFrame) -> np.ndarray:
    return deals["value"].dropna().to_numpy()


def _cycles(deals: pd.DataFrame) -> np.ndarray:
    return deals.loc[deals["cohort"], "cycle_days"].dropna().to_numpy()


def _pick(levels, sample, figure: str, unit: str, notes: list[str],
          any_solution: bool = False) -> np.ndarray:
    """The sample of the first level with enough data; the fallback is noted."""
    samples = [(label, sample(frame)) for label, frame in levels]
    chosen = len(samples) - 1
    for depth, (_, values) in enumerate(samples[:-1]):
        enough = MIN_DEALS if depth == 0 or not any_solution else 1
        if len(values) >= enough:
            chosen = depth
            break
    if chosen > 0:
        notes.append(f"{samples[0][0]}: {figure} pooled from {samples[chosen][0]} "
                     f"({len(samples[0][1])} {unit} in the stream, fewer than "
                     f"{MIN_DEALS})")
    return samples[chosen][1]


def _lognormal(values: np.ndarray) -> tuple[float, float]:
    logs = np.log(values)
    return round(float(logs.mean()), 4), round(float(logs.std()), 4)


def _quantiles(values: np.ndarray) -> list[float]:
    """Quantiles at probabilities k / (QUANTILE_COUNT - 1), six significant digits."""
    probabilities = np.linspace(0.0, 1.0, QUANTILE_COUNT)
    return [float(f"{q:.6g}") for q in np.quantile(values, probabilities)]


# -- scenario ------------------------------------------------------------------


def merge_calibration(base: dict, calibrated: dict) -> dict:
    """The template with its regions, solutions, demand and reps calibrated.

    Args:
        base: A parsed scenario template (its engineer side is kept).
        calibrated: The tables of :meth:`Calibration.to_scenario_tables`.

    Returns:
        A new scenario dict: the template's demand settings updated with the
        calibrated ones, regions and solutions those of the streams, and the
        calibrated reps.
    """
    merged = dict(base)
    demand = dict(base.get("demand", {}))
    demand.update(calibrated["demand"])
    merged["demand"] = demand
    streams = calibrated["demand"]["streams"]
    merged["regions"] = sorted({s["region"] for s in streams})
    merged["solutions"] = sorted({s["solution"] for s in streams})
    merged["reps"] = {"individuals": calibrated["reps"]}
    return merged


# -- reps ----------------------------------------------------------------------


def _reps(deals: pd.DataFrame, teams: pd.DataFrame, accounts: pd.DataFrame,
          notes: list[str]) -> list[dict[str, Any]]:
    close = deals["close"].dropna()
    quarters = _exposure(close.min(), close.max()).sum() / 3
    revenue = deals.groupby("sales_agent")["value"].sum()
    per_quarter = teams["sales_agent"].map(revenue).fillna(0.0) / quarters
    team = teams["manager"].where(teams["manager"] != "",
                                  "region " + teams["regional_office"])
    target = per_quarter.groupby(team).transform("mean") * QUOTA_UPLIFT
    quota = (np.floor(target / QUOTA_STEP + 0.5) * QUOTA_STEP).clip(lower=QUOTA_STEP)
    kind = _customer_types(deals, accounts)
    keys = sum(1 for name in teams["sales_agent"] if kind.get(name) == "key_account")
    notes.append(f"customer types: {keys} key_account, {len(teams) - keys} "
                 "commercial reps")
    return [
        {"name": name, "region": region,
         "customer_type": kind.get(name, "commercial"),
         "quarterly_quota": int(q), "attainment": round(float(p / q), 4)}
        for name, region, q, p in zip(teams["sales_agent"], teams["regional_office"],
                                      quota, per_quarter, strict=True)
    ]


def _customer_types(deals: pd.DataFrame, accounts: pd.DataFrame) -> dict[str, str]:
    revenue = deals["account"].map(dict(zip(accounts["key"], accounts["revenue"],
                                            strict=True)))
    known = revenue.notna()
    large = (revenue[known] >= KEY_ACCOUNT_REVENUE).groupby(
        deals.loc[known, "sales_agent"]).mean()
    median = float(large.median()) if len(large) else 0.0
    return {agent: "key_account" if share > 0.5 and share > median else "commercial"
            for agent, share in large.items()}
