"""Text tables and Markdown reports of comparisons, sweeps and staffing searches.

The ``*_table`` functions turn an experiment's tidy tables into small tables of
formatted strings (``mean ± half-width``), which the command line prints and
the reports embed. The ``write_*_report`` functions write a Markdown file with
PNG figures in a folder beside it (``report.md`` gets ``report_figures/``).
Figures are drawn without pyplot, so no screen is needed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sim.figures import save

if TYPE_CHECKING:
    from models.experiments import Comparison, Staffing, SweepResult

__all__ = [
    "differences_table",
    "format_interval",
    "format_value",
    "means_table",
    "ranking_table",
    "staffing_table",
    "to_markdown",
    "to_text",
    "write_comparison_report",
    "write_staffing_report",
    "write_sweep_report",
]

SIGNIFICANT, NOT_SIGNIFICANT = "yes", "no"
_PANELS = 6


def format_value(value: float) -> str:
    """Format a number for a table: separators for large values, 3 digits else."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    if value == 0:
        return "0"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    if abs(value) >= 100:
        return f"{value:.1f}"
    if abs(value) >= 1:
        return f"{value:.2f}"
    return f"{value:.3f}"


def format_interval(mean: float, half_width: float) -> str:
    """Format ``mean ± half_width``."""
    if isinstance(mean, float) and math.isnan(mean):
        return "n/a"
    return f"{format_value(mean)} ± {format_value(half_width)}"


def _shown(outcomes: Sequence[str] | None, available: Sequence[str]) -> list[str]:
    if outcomes is None:
        return list(available)
    return [o for o in outcomes if o in set(available)]


def means_table(
    summary: pd.DataFrame, outcomes: Sequence[str] | None = None, by: str = "variant"
) -> pd.DataFrame:
    """One row per outcome, one column per variant (or point): mean ± half-width.

    Args:
        summary: A tidy summary (``by, outcome, mean, half_width, ...``).
        outcomes: Outcomes to show, in this order (default all).
        by: The column naming variants.

    Returns:
        A table of strings indexed by outcome.
    """
    shown = _shown(outcomes, list(dict.fromkeys(summary["outcome"])))
    rows = summary[summary["outcome"].isin(shown)]
    cells = {
        (r.outcome, getattr(r, by)): format_interval(r.mean, r.half_width)
        for r in rows.itertuples()
    }
    columns = list(dict.fromkeys(rows[by]))
    table = pd.DataFrame(
        [[cells.get((o, c), "") for c in columns] for o in shown],
        index=pd.Index(shown, name="outcome"),
        columns=columns,
    )
    return table


def differences_table(
    differences: pd.DataFrame, outcomes: Sequence[str] | None = None
) -> pd.DataFrame:
    """Paired differences against the baseline as strings, one row per pair.

    Args:
        differences: :attr:`Comparison.differences`.
        outcomes: Outcomes to show (default all).

    Returns:
        Columns ``variant, outcome, baseline, variant mean, difference,
        interval, relative, significant``.
    """
    shown = _shown(outcomes, list(dict.fromkeys(differences["outcome"])))
    rows = []
    for variant in dict.fromkeys(differences["variant"]):
        mine = differences[differences["variant"] == variant].set_index("outcome")
        for outcome in shown:
            r = mine.loc[outcome]
            relative = (
                "n/a" if math.isnan(r.relative_diff) else f"{r.relative_diff:+.1%}"
            )
            rows.append(
                (
                    variant,
                    outcome,
                    format_value(r.baseline_mean),
                    format_value(r.variant_mean),
                    format_value(r["diff"]),
                    f"[{format_value(r.ci_low)}, {format_value(r.ci_high)}]",
                    relative,
                    SIGNIFICANT if r.significant else NOT_SIGNIFICANT,
                )
            )
    return pd.DataFrame(
        rows,
        columns=[
            "variant",
            "outcome",
            "baseline",
            "variant mean",
            "difference",
            "interval",
            "relative",
            "significant",
        ],
    )


def ranking_table(
    ranking: pd.DataFrame, outcomes: Sequence[str] | None = None
) -> pd.DataFrame:
    """Variants ranked per outcome, best first, as strings.

    Args:
        ranking: :attr:`Comparison.ranking`.
        outcomes: Outcomes to show (default all).

    Returns:
        Columns ``outcome, better, order`` where ``order`` lists the variants
        best first, ``=`` joining those the data cannot tell from the best.
    """
    if ranking.empty:
        return pd.DataFrame(columns=["outcome", "better", "order"])
    shown = _shown(outcomes, list(dict.fromkeys(ranking["outcome"])))
    rows = []
    for outcome in shown:
        part = ranking[ranking["outcome"] == outcome]
        tied = part[part["tied_with_best"]]["variant"].tolist()
        rest = part[~part["tied_with_best"]]["variant"].tolist()
        order = " = ".join(tied) + ("".join(f" > {v}" for v in rest))
        rows.append((outcome, part["better"].iloc[0], order))
    return pd.DataFrame(rows, columns=["outcome", "better", "order"])


def staffing_table(staffing: Staffing, outcomes: Sequence[str]) -> pd.DataFrame:
    """The staffing curve as strings: one row per candidate headcount.

    Args:
        staffing: A staffing search.
        outcomes: Outcomes to show beside the targets' verdicts.

    Returns:
        Columns ``headcount``, the per-path counts when there are several
        paths, one ``mean ± half-width`` column per outcome, one Erlang C
        column per outcome it predicts, and ``meets targets``.
    """
    curve, checks = staffing.curve, staffing.checks
    met = checks.groupby("variant", sort=False)["met"].all()
    erlang = staffing.erlang
    rows = []
    variants = list(dict.fromkeys(curve["variant"]))
    for index, variant in enumerate(variants):
        part = curve[curve["variant"] == variant].set_index("outcome")
        row = {"headcount": f"{float(part['headcount'].iloc[0]):g}"}
        if len(staffing.paths) > 1:
            row["counts"] = "/".join(str(int(part[p].iloc[0])) for p in staffing.paths)
        for outcome in outcomes:
            if outcome in part.index:
                row[outcome] = format_interval(
                    part.loc[outcome, "mean"], part.loc[outcome, "half_width"]
                )
            if erlang is not None and outcome in erlang.columns:
                point = erlang.iloc[index]
                row[f"{outcome} (Erlang C)"] = (
                    "unstable"
                    if point["status"] == "unstable"
                    else format_value(point[outcome])
                )
        row["meets targets"] = SIGNIFICANT if met[variant] else NOT_SIGNIFICANT
        rows.append(row)
    return pd.DataFrame(rows)


# ---------------------------------------------------------------- text forms


def _cells(df: pd.DataFrame) -> tuple[list[str], list[list[str]]]:
    frame = df.reset_index() if df.index.name else df
    header = [str(c) for c in frame.columns]
    body = [[str(v) for v in row] for row in frame.itertuples(index=False)]
    return header, body


def to_text(df: pd.DataFrame) -> str:
    """Render a table of strings as aligned plain text (first column left)."""
    header, body = _cells(df)
    widths = [max(len(r[i]) for r in [header, *body]) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        parts = [
            c.ljust(w) if i == 0 else c.rjust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ]
        return "  ".join(parts).rstrip()

    return "\n".join([line(header), *(line(r) for r in body)])


def to_markdown(df: pd.DataFrame) -> str:
    """Render a table of strings as a Markdown (GitHub) table."""
    header, body = _cells(df)

    def escape(text: str) -> str:
        return text.replace("|", "\\|")

    lines = ["| " + " | ".join(escape(h) for h in header) + " |"]
    lines.append(
        "|" + "|".join(":--" if i == 0 else "--:" for i in range(len(header))) + "|"
    )
    lines += ["| " + " | ".join(escape(c) for c in row) + " |" for row in body]
    return "\n".join(lines)


# ---------------------------------------------------------------- figures


def _drawable(table: pd.DataFrame, outcomes: Sequence[str]) -> list[str]:
    """Outcomes with at least one finite mean in a tidy table, at most six."""
    finite = table[np.isfinite(table["mean"].to_numpy(float))]["outcome"]
    return [o for o in outcomes if o in set(finite)][:_PANELS]


def _panel_grid(count: int) -> tuple[Figure, list]:
    """A figure with ``count`` panels (at least one) in two columns."""
    count = max(count, 1)
    columns = 2 if count > 1 else 1
    rows = math.ceil(count / columns)
    fig = Figure(figsize=(5.5 * columns, 2.6 * rows + 0.6), layout="constrained")
    axes = fig.subplots(rows, columns, squeeze=False).ravel().tolist()
    for ax in axes[count:]:
        ax.set_visible(False)
    return fig, axes[:count]


def means_figure(
    summary: pd.DataFrame, outcomes: Sequence[str], confidence: float
) -> Figure:
    """Each outcome's variant means with their intervals, one panel each."""
    outcomes = _drawable(summary, outcomes)
    fig, axes = _panel_grid(len(outcomes))
    for ax, outcome in zip(axes, outcomes, strict=False):
        part = summary[summary["outcome"] == outcome]
        y = np.arange(len(part))
        ax.errorbar(
            part["mean"],
            y,
            xerr=part["half_width"],
            fmt="o",
            color="#1565c0",
            capsize=4,
        )
        ax.set_yticks(y, part["variant"].tolist())
        ax.invert_yaxis()
        ax.set_title(outcome, fontsize="medium")
        ax.grid(axis="x", alpha=0.3)
    fig.suptitle(f"Means with {confidence:.0%} Student-t intervals")
    return fig


def differences_figure(
    differences: pd.DataFrame, outcomes: Sequence[str], confidence: float
) -> Figure:
    """Relative paired differences against the baseline with their intervals."""
    rows = differences[differences["outcome"].isin(outcomes)].copy()
    base = rows["baseline_mean"].replace(0.0, np.nan).abs()
    rows["rel"] = rows["diff"] / base * 100
    rows["rel_hw"] = rows["half_width"] / base * 100
    rows = rows.dropna(subset=["rel"])
    fig = Figure(figsize=(8, 0.35 * len(rows) + 1.6), layout="constrained")
    ax = fig.subplots()
    if rows.empty:
        ax.text(0.5, 0.5, "no differences to show", ha="center", va="center")
        return fig
    y = np.arange(len(rows))
    significant = rows["significant"].to_numpy(bool)
    for mask, colour in ((significant, "#c62828"), (~significant, "#9e9e9e")):
        ax.errorbar(
            rows["rel"].to_numpy()[mask],
            y[mask],
            xerr=rows["rel_hw"].to_numpy()[mask],
            fmt="o",
            color=colour,
            capsize=3,
        )
    ax.axvline(0.0, color="black", linewidth=0.8)
    ax.set_yticks(
        y, [f"{v}: {o}" for v, o in zip(rows["variant"], rows["outcome"], strict=True)]
    )
    ax.invert_yaxis()
    reach = (rows["rel"].abs() + rows["rel_hw"]).replace(np.inf, np.nan).max()
    if reach > 100:
        ax.set_xscale("symlog", linthresh=10)
    ax.set_xlabel("difference from baseline, % of the baseline mean")
    ax.set_title(f"Paired differences, {confidence:.0%} intervals (red: significant)")
    ax.grid(axis="x", alpha=0.3)
    return fig


def staffing_figure(staffing: Staffing, outcomes: Sequence[str]) -> Figure:
    """Outcomes against headcount with intervals, targets and Erlang C."""
    outcomes = _drawable(staffing.curve, outcomes)
    fig, axes = _panel_grid(len(outcomes))
    curve, erlang = staffing.curve, staffing.erlang
    for ax, outcome in zip(axes, outcomes, strict=False):
        part = curve[curve["outcome"] == outcome].sort_values("headcount")
        ax.fill_between(
            part["headcount"],
            part["ci_low"],
            part["ci_high"],
            color="#90caf9",
            alpha=0.5,
            label="interval",
        )
        ax.plot(
            part["headcount"],
            part["mean"],
            "o-",
            color="#1565c0",
            label="simulated mean",
        )
        if erlang is not None and outcome in erlang.columns:
            ax.plot(
                erlang["headcount"],
                erlang[outcome],
                "s--",
                color="#ef6c00",
                label="Erlang C",
            )
        for target in staffing.targets:
            if target.outcome == outcome:
                ax.axhline(
                    target.threshold,
                    color="#c62828",
                    linestyle=":",
                    label=f"target {target.op} {target.threshold:g}",
                )
        if staffing.least_headcount is not None:
            ax.axvline(
                staffing.least_headcount,
                color="#2e7d32",
                linewidth=1,
                label="least headcount",
            )
        ax.set_title(outcome, fontsize="medium")
        ax.set_xlabel("headcount")
        ax.grid(alpha=0.3)
        ax.legend(fontsize="x-small")
    return fig


def sweep_figure(result: SweepResult, outcomes: Sequence[str]) -> Figure:
    """Outcomes over the sweep's points with intervals, one panel each."""
    outcomes = _drawable(result.table, outcomes)
    fig, axes = _panel_grid(len(outcomes))
    table = result.table
    points = list(dict.fromkeys(table["variant"]))
    single = len(result.paths) == 1 and all(
        isinstance(v, int | float) and not isinstance(v, bool)
        for v in table[result.paths[0]]
    )
    for ax, outcome in zip(axes, outcomes, strict=False):
        part = table[table["outcome"] == outcome].set_index("variant").loc[points]
        x = part[result.paths[0]].to_numpy(float) if single else np.arange(len(part))
        ax.errorbar(
            x,
            part["mean"],
            yerr=part["half_width"],
            fmt="o-",
            color="#1565c0",
            capsize=4,
        )
        if single:
            ax.set_xlabel(result.paths[0])
        else:
            ax.set_xticks(x, [str(i + 1) for i in range(len(part))])
            ax.set_xlabel("point (see the table)")
        ax.set_title(outcome, fontsize="medium")
        ax.grid(alpha=0.3)
    return fig


def _write_figure(fig: Figure, report: Path, name: str) -> str:
    folder = report.with_name(f"{report.stem}_figures")
    path = save(fig, folder / f"{name}.png")
    return f"{folder.name}/{path.name}"


# ---------------------------------------------------------------- reports


def _header(title: str, scenario: str, config: dict, lines: list[str]) -> str:
    meta = config.get("scenario", {})
    where = f"Scenario `{scenario}`"
    if "horizon_days" in meta:
        where += (
            f": {meta['horizon_days']} simulated days, the first "
            f"{meta.get('warmup_days', 0)} excluded from outcomes (warm-up)"
        )
    return "\n".join([f"# {title}", "", where + ".", "", *(f"- {x}" for x in lines)])


def write_comparison_report(
    comparison: Comparison, path: str | Path, outcomes: Sequence[str]
) -> Path:
    """Write a Markdown report of a comparison, with figures beside it.

    Args:
        comparison: What :func:`models.experiments.compare` returned.
        path: The ``.md`` file to write.
        outcomes: Outcomes to show.

    Returns:
        The report's path.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    c = comparison
    shown = _shown(outcomes, list(dict.fromkeys(c.summary["outcome"])))
    others = [v for v in c.variants if v.name != c.baseline]
    lines = [
        f"{len(c.variants)} variants, {c.replications} replications each, "
        f"base seed {c.seed}; replication k of every variant shares its random "
        "streams (common random numbers), so differences are paired.",
        f"Intervals: two-sided {c.confidence:.0%} Student-t over replications.",
        f"Baseline `{c.baseline}`: the scenario as given.",
        *(
            f"`{v.name}`: "
            + ", ".join(f"`{p} = {val}`" for p, val in v.overrides.items())
            for v in others
        ),
    ]
    means_png = _write_figure(
        means_figure(c.summary, shown, c.confidence), path, "means"
    )
    diffs_png = _write_figure(
        differences_figure(c.differences, shown, c.confidence), path, "differences"
    )
    body = [
        _header("Comparison of variants", c.scenario, c.config, lines),
        "## Means",
        to_markdown(means_table(c.summary, shown)),
        f"![means]({means_png})",
        "## Differences from the baseline",
        "Variant minus baseline per replication; *significant* when the "
        "interval excludes zero.",
        to_markdown(differences_table(c.differences, shown)),
        f"![differences]({diffs_png})",
        "## Ranking",
        "Best first; `=` joins variants the data cannot tell from the best.",
        to_markdown(ranking_table(c.ranking, shown)),
    ]
    path.write_text("\n\n".join(body) + "\n", encoding="utf-8")
    return path


def write_sweep_report(
    result: SweepResult, path: str | Path, outcomes: Sequence[str]
) -> Path:
    """Write a Markdown report of a sweep, with a figure beside it.

    Args:
        result: What :func:`models.experiments.sweep` returned.
        path: The ``.md`` file to write.
        outcomes: Outcomes to show.

    Returns:
        The report's path.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    shown = _shown(outcomes, list(dict.fromkeys(result.table["outcome"])))
    points = list(dict.fromkeys(result.table["variant"]))
    lines = [
        f"{len(points)} points over {', '.join(f'`{p}`' for p in result.paths)}, "
        f"{result.replications} replications each, base seed {result.seed}, "
        "common random numbers across points.",
        f"Intervals: two-sided {result.confidence:.0%} Student-t.",
    ]
    png = _write_figure(sweep_figure(result, shown), path, "sweep")
    table = means_table(result.table, shown).T
    table.index = pd.Index(
        [f"{i + 1}: {p}" for i, p in enumerate(table.index)], name="point"
    )
    body = [
        _header("Sweep", result.scenario, result.config, lines),
        "## Means by point",
        to_markdown(table),
        f"![sweep]({png})",
    ]
    path.write_text("\n\n".join(body) + "\n", encoding="utf-8")
    return path


def write_staffing_report(
    staffing: Staffing, path: str | Path, outcomes: Sequence[str]
) -> Path:
    """Write a Markdown report of a staffing search, with its curve beside it.

    Args:
        staffing: What :func:`models.experiments.staff` returned.
        path: The ``.md`` file to write.
        outcomes: Outcomes to show beside the targets' outcomes.

    Returns:
        The report's path.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    s = staffing
    target_outcomes = list(dict.fromkeys(t.outcome for t in s.targets))
    shown = list(dict.fromkeys([*target_outcomes, *outcomes]))
    shown = _shown(shown, list(dict.fromkeys(s.curve["outcome"])))
    lines = [
        "Headcount paths: " + ", ".join(f"`{p}`" for p in s.paths) + ".",
        f"{s.replications} replications per candidate, base seed {s.seed}, "
        "common random numbers across candidates.",
        "Targets (each met when its one-sided bound clears the threshold): "
        + "; ".join(str(t) for t in s.targets)
        + ".",
    ]
    if s.erlang is not None:
        least = s.erlang_least_headcount
        lines.append(
            "Erlang C (M/M/c) reference: least headcount "
            + ("n/a" if least is None else str(least))
            + (f" ({s.erlang_note})" if s.erlang_note else " (exact set-up)")
            + "."
        )
    png = _write_figure(staffing_figure(s, shown), path, "staffing_curve")
    checks = s.checks.assign(
        mean=s.checks["mean"].map(format_value),
        bound=s.checks["bound"].map(format_value),
        met=s.checks["met"].map({True: SIGNIFICANT, False: NOT_SIGNIFICANT}),
        headcount=s.checks["headcount"].map("{:g}".format),
    )[["headcount", "target", "mean", "bound", "met"]]
    body = [
        _header("Staffing search", s.scenario, s.config, lines),
        f"**{s.statement}**",
        "## Outcomes against headcount",
        to_markdown(staffing_table(s, shown)),
        f"![staffing curve]({png})",
        "## Targets",
        to_markdown(checks),
    ]
    path.write_text("\n\n".join(body) + "\n", encoding="utf-8")
    return path
