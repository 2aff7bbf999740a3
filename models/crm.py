"""Read and check a CRM export before demand is calibrated from it.

An export is four CSV files in one folder, shaped like the public "CRM Sales
Opportunities" sample: ``sales_pipeline.csv`` (one row per opportunity),
``sales_teams.csv`` (agent, manager, regional office), ``products.csv``
(product, series, list price) and ``accounts.csv`` (customer accounts).

Problems of a whole file (missing file or column, text that is not UTF-8 CSV,
nothing usable left) raise :class:`CrmImportError`. Problems of single rows
never raise: each such row is listed in the :class:`ImportReport` as a
:class:`RowIssue` that is either ``dropped`` or ``used`` (kept, with the repair
or the limitation stated). Every data row is used or dropped, so
``read == used + dropped`` holds for each file.

A record may not span lines (no field of such an export holds a line break), so
a garbage line, an unbalanced quote or a blank line costs only that line, and a
row number is the line number in the file, the header being line 1.

Row rules. A row is dropped when it cannot be placed: a blank or malformed
line, an empty key (opportunity id, agent, product, account name), an agent,
product or deal stage that matches nothing, a key already seen (the first row
is kept), a team row without region, or an agent with no usable deal. Anything
else is used, with the repair or limitation listed: names are matched ignoring
case, spacing and (for products) punctuation, whitespace is trimmed, and a deal
with a missing or odd date or value still counts for what it can inform (an
undated Won deal counts for the win rate, not for the cycle). Dates are ISO
``YYYY-MM-DD``; a date over ``ISOLATION_DAYS`` away from all the export's other
dates is taken for a typo and ignored, as long as such dates are rare.
"""

from __future__ import annotations

import csv
import difflib
import logging
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

logger = logging.getLogger(__name__)

PIPELINE = "sales_pipeline.csv"
TEAMS = "sales_teams.csv"
PRODUCTS = "products.csv"
ACCOUNTS = "accounts.csv"
USED = "used"
DROPPED = "dropped"
STAGES = ("Prospecting", "Engaging", "Won", "Lost")

#: Columns each file must have, then columns checked only when present.
REQUIRED = {
    PIPELINE: ("opportunity_id", "sales_agent", "product", "account", "deal_stage",
               "engage_date", "close_date", "close_value"),
    TEAMS: ("sales_agent", "manager", "regional_office"),
    PRODUCTS: ("product", "series"),
    ACCOUNTS: ("account", "revenue"),
}
OPTIONAL = {
    PIPELINE: (),
    TEAMS: (),
    PRODUCTS: ("sales_price",),
    ACCOUNTS: ("sector", "year_established", "employees", "office_location",
               "subsidiary_of"),
}
ISOLATION_DAYS = 180  # a date this far from all others is taken for a typo
ISOLATED_SHARE = 0.01  # ... when such dates are at most this share of all dates
ENGAGE_EFFECT = "not counted in arrivals or cycle"
CLOSE_EFFECT = "cycle not measured"
CONTENT = {PIPELINE: "the opportunities", TEAMS: "the sales agents",
           PRODUCTS: "the products", ACCOUNTS: "the accounts"}
#: Industry names a misspelt sector is matched against.
KNOWN_SECTORS = (
    "agriculture", "automotive", "banking", "construction", "consulting",
    "education", "employment", "energy", "entertainment", "finance",
    "government", "healthcare", "hospitality", "insurance", "logistics",
    "manufacturing", "marketing", "media", "medical", "pharmaceuticals",
    "real estate", "retail", "services", "software", "technology",
    "telecommunications", "transportation", "utilities",
)


class CrmImportError(ValueError):
    """An export that cannot be read at all; the message names file and fix.

    Attributes:
        report: The import report so far, when rows were read before failing.
    """

    def __init__(self, message: str, report: ImportReport | None = None) -> None:
        super().__init__(message)
        self.report = report


@dataclass(frozen=True)
class RowIssue:
    """One input row that was dropped, or used with a repair or a limitation.

    Attributes:
        file: File name, e.g. ``sales_pipeline.csv``.
        row: 1-based line number in the file; the header is line 1.
        field: Column concerned, or ``"*"`` for the whole line.
        reason: What is wrong, quoting the offending value.
        action: ``"dropped"`` or ``"used"``.
    """

    file: str
    row: int
    field: str
    reason: str
    action: str


@dataclass
class FileCounts:
    """Row counts of one file; ``read == used + dropped``.

    Attributes:
        read: Data lines after the header.
        used: Rows kept for calibration (repaired ones included).
        repaired: Kept rows listed in the report with a repair or limitation.
        dropped: Rows left out, each listed in the report.
    """

    read: int = 0
    used: int = 0
    repaired: int = 0
    dropped: int = 0


@dataclass
class ImportReport:
    """What happened to every row of an export.

    Attributes:
        counts: Row counts per file name.
        issues: Every dropped row and every row used with a repair.
        notes: Remarks that concern no single row (pooled estimates, say).
    """

    counts: dict[str, FileCounts] = field(default_factory=dict)
    issues: list[RowIssue] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """A few human-readable lines: per file read, used, repaired, dropped."""
        lines = [
            f"{name}: {c.read} rows read, {c.used} used ({c.repaired} with a "
            f"repair or limitation), {c.dropped} dropped"
            for name, c in self.counts.items()
        ]
        return "\n".join(lines + self.notes)

    def issues_of(self, file: str) -> list[RowIssue]:
        """The issues of one file, in row order."""
        return sorted((i for i in self.issues if i.file == file), key=lambda i: i.row)


def write_report_csv(report: ImportReport, path: Path) -> None:
    """Write the row issues as CSV: ``file,row,field,reason,action``.

    Args:
        report: The report of an import.
        path: CSV file to write (overwritten).
    """
    with Path(path).open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["file", "row", "field", "reason", "action"])
        for i in sorted(report.issues, key=lambda i: (i.file, i.row, i.field)):
            writer.writerow([i.file, i.row, i.field, i.reason, i.action])


@dataclass
class CrmExport:
    """The usable rows of an export, cleaned, plus the import report.

    Attributes:
        pipeline: One row per used opportunity: ``opportunity_id, sales_agent,
            region, manager, product, series, account`` (account key, ``""``
            when unknown), ``deal_stage, engage, close`` (timestamps or NaT),
            ``value`` (won revenue in currency units, NaN when not usable),
            ``cycle_days`` (closed deals, NaN when not measurable), ``line``.
        teams: Used agents: ``sales_agent, manager, regional_office, line``.
        products: ``product, series, line``.
        accounts: ``account, key, revenue`` (millions, NaN if unknown), ``line``.
        report: What happened to every row.
    """

    pipeline: pd.DataFrame
    teams: pd.DataFrame
    products: pd.DataFrame
    accounts: pd.DataFrame
    report: ImportReport


class _Rows:
    """The rows of one file while they are checked: values, drops and issues."""

    def __init__(self, name: str, frame: pd.DataFrame, issues: list[RowIssue]):
        self.name = name
        self.frame = frame
        self.read = len(frame) + len({i.row for i in issues if i.action == DROPPED})
        self.issues = issues
        self.bad = pd.Series(False, index=frame.index)

    def flag(self, mask: pd.Series, column: str, reason: str | pd.Series,
             action: str = USED) -> pd.Series:
        """List the rows of ``mask``; drop them when ``action`` is dropped."""
        mask = mask.fillna(False).astype(bool)
        if not mask.any():
            return mask
        hits = self.frame.loc[mask, "line"]
        texts = reason[mask] if isinstance(reason, pd.Series) else [reason] * len(hits)
        self.issues.extend(RowIssue(self.name, int(r), column, str(t), action)
                           for r, t in zip(hits, texts, strict=True))
        if action == DROPPED:
            self.bad |= mask
        return mask

    def drop(self, mask: pd.Series, column: str, reason: str | pd.Series) -> None:
        """Drop the rows of ``mask`` for ``reason``."""
        self.flag(mask, column, reason, DROPPED)

    def finish(self, report: ImportReport) -> pd.DataFrame:
        """Record the counts and issues in ``report``; return the kept rows."""
        kept = self.frame.loc[~self.bad]
        dropped = {i.row for i in self.issues if i.action == DROPPED}
        issues = [i for i in self.issues if i.action == DROPPED or i.row not in dropped]
        repaired = {i.row for i in issues if i.action == USED}
        report.issues.extend(issues)
        report.counts[self.name] = FileCounts(self.read, len(kept), len(repaired),
                                              len(dropped))
        return kept


def read_crm_export(crm_dir: Path) -> CrmExport:
    """Read, check and clean the four files of a CRM export.

    Args:
        crm_dir: Folder holding ``sales_pipeline.csv``, ``sales_teams.csv``,
            ``products.csv`` and ``accounts.csv``.

    Returns:
        The usable rows of each file and the report of every row left out or
        repaired.

    Raises:
        CrmImportError: A file or a required column is missing, a file is not
            UTF-8 CSV, or no usable agent, product or opportunity remains.
    """
    crm_dir = Path(crm_dir)
    if not crm_dir.is_dir():
        raise CrmImportError(f"{crm_dir}: no such folder; pass the folder that "
                             f"holds {', '.join(REQUIRED)}")
    loaded, errors = {}, []
    for name in REQUIRED:
        try:
            loaded[name] = _load(crm_dir / name)
        except CrmImportError as exc:
            errors.append(str(exc))
    if errors:
        raise CrmImportError("\n".join(errors))
    report = ImportReport()
    teams = _check_teams(loaded[TEAMS], report)
    products = _check_products(loaded[PRODUCTS], report)
    accounts = _check_accounts(loaded[ACCOUNTS])
    pipeline = _check_pipeline(loaded[PIPELINE], teams, products, accounts)
    return _finish(report, pipeline, loaded[TEAMS], products, accounts)


def _finish(report: ImportReport, pipeline: _Rows, teams: _Rows,
            products: pd.DataFrame, accounts: _Rows) -> CrmExport:
    kept = pipeline.finish(report)
    if kept.empty:
        raise CrmImportError(_nothing_left(pipeline), report)
    idle = ~teams.frame["sales_agent"].isin(set(kept["sales_agent"])) & ~teams.bad
    teams.drop(idle, "sales_agent", f"agent has no usable opportunity in {PIPELINE}; "
               "not a rep in the scenario")
    used_teams = teams.finish(report)
    accounts_kept = accounts.finish(report)
    report.counts = {name: report.counts[name] for name in REQUIRED}
    logger.info("CRM export read: %s", report.summary().replace("\n", "; "))
    return CrmExport(kept.reset_index(drop=True), used_teams.reset_index(drop=True),
                     products, accounts_kept.reset_index(drop=True), report)


def _nothing_left(rows: _Rows) -> str:
    dropped = [i for i in rows.issues if i.action == DROPPED]
    if not dropped:
        return (f"{rows.name}: no data rows after the header; the export must list "
                f"{CONTENT[rows.name]}")
    top, count = Counter(i.field for i in dropped).most_common(1)[0]
    example = next(i for i in dropped if i.field == top)
    return (f"{rows.name}: none of the {rows.read} rows is usable; {count} were "
            f"dropped over {top!r}, e.g. row {example.row}: {example.reason}; "
            "fix those values in the export and import again")


# -- reading -------------------------------------------------------------------


def _separator_hint(first_line: str) -> str:
    """A hint when the header looks split by another separator than commas."""
    for mark, label in ((";", "semicolons"), ("\t", "tabs"), ("|", "bars")):
        if first_line.count(mark) >= 2 and "," not in first_line:
            return (f"; the header is separated by {label}: save the file as "
                    "comma-separated CSV")
    return ""


def _load(path: Path) -> _Rows:
    """Split a file into a frame of well-formed rows and issues of the rest."""
    name, required = path.name, REQUIRED[path.name]
    lines = _text_lines(path)
    try:
        header = [re.sub(r"\s+", "_", h.replace("\ufeff", "").strip().lower())
                  for h in _fields(lines[0])]
    except csv.Error as exc:
        raise CrmImportError(f"{name}: the header line is not CSV ({exc}); the first "
                             f"line must be {','.join(required)}") from exc
    missing = [c for c in required if c not in header]
    if missing:
        plural = "s" if len(missing) > 1 else ""
        raise CrmImportError(
            f"{name}: missing column{plural} {', '.join(map(repr, missing))}; the "
            f"export needs columns {', '.join(required)} (found: {_listing(header)})"
            + _separator_hint(lines[0]))
    known = required + OPTIONAL[name]
    twice = sorted({h for h in header if h in known and header.count(h) > 1})
    if twice:
        raise CrmImportError(f"{name}: column {twice[0]!r} appears more than once "
                             "in the header; keep one")
    records, lines_kept, issues = _records(name, lines, header)
    frame = pd.DataFrame(records, columns=header, dtype=object)
    columns = [c for c in known if c in header]
    frame = frame[columns].copy()
    frame["line"] = lines_kept
    return _Rows(name, frame, issues)


def _listing(names: list[str], most: int = 12) -> str:
    shown = ", ".join(names[:most])
    return shown + (f" and {len(names) - most} more" if len(names) > most else "")


def _text_lines(path: Path) -> list[str]:
    name = path.name
    if not path.is_file():
        raise CrmImportError(f"{name}: file not found in {path.parent}; an export "
                             f"needs {', '.join(REQUIRED)} in one folder")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise CrmImportError(f"{name}: cannot be read ({exc.strerror}); check that "
                             "the file is readable") from exc
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CrmImportError(
            f"{name}: not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset "
            f"{exc.start}); save the export as 'CSV UTF-8' and import again"
        ) from exc
    lines = re.split(r"\r\n|\r|\n", text)
    if lines[-1] == "":
        lines.pop()
    if not lines or not lines[0].strip():
        raise CrmImportError(
            f"{name}: the file is empty or its first line is blank; the first line "
            f"must be the header {','.join(REQUIRED[name])}")
    return lines


def _fields(line: str) -> list[str]:
    return next(csv.reader([line]), [])


def _parse(line: str) -> list[str] | None:
    try:
        return _fields(line)
    except csv.Error:
        return None


def _records(name: str, lines: list[str],
             header: list[str]) -> tuple[list[list[str]], list[int], list[RowIssue]]:
    records, kept, issues = [], [], []
    width = len(header)
    for number, line in enumerate(lines[1:], start=2):
        values = _parse(line)
        extra = values[width:] if values is not None else []
        if not line.strip():
            issues.append(RowIssue(name, number, "*", "blank line", DROPPED))
        elif values is None:
            issues.append(RowIssue(name, number, "*", "line is not CSV", DROPPED))
        elif [v.strip().lower() for v in values] == header:
            issues.append(RowIssue(name, number, "*", "header line repeated", DROPPED))
        elif len(values) < width or any(v.strip() for v in extra):
            issues.append(RowIssue(name, number, "*", f"line has {len(values)} "
                                   f"fields, the header has {width}", DROPPED))
        else:
            if extra:
                issues.append(RowIssue(name, number, "*", f"{len(extra)} trailing "
                                       "empty fields ignored", USED))
            records.append(values[:width])
            kept.append(number)
    return records, kept, issues


# -- cleaning helpers ----------------------------------------------------------


def _clean(rows: _Rows) -> None:
    """Trim and collapse whitespace in every field, listing the rows changed."""
    for column in rows.frame.columns.drop("line"):
        raw = rows.frame[column].astype(str)
        clean = raw.str.replace(r"\s+", " ", regex=True).str.strip()
        rows.flag(raw != clean, column, "stray whitespace in " + raw.map(repr))
        rows.frame[column] = clean


def _key(values: pd.Series) -> pd.Series:
    """Match key of a name: case and whitespace ignored."""
    return values.str.casefold().str.replace(r"\s+", " ", regex=True)


def _compact(values: pd.Series) -> pd.Series:
    """Match key of a product: case, spaces and punctuation ignored."""
    return values.str.casefold().str.replace(r"[\W_]+", "", regex=True)


def _canonical(rows: _Rows, column: str) -> None:
    """Spell each value of a category as its most frequent spelling.

    Ties go to the spelling with more capitals: exports lose capitals more
    often than they gain them.
    """
    frame = rows.frame
    keys = _key(frame[column])
    counts = frame.groupby([keys.rename("k"), frame[column]]).size().reset_index()
    counts["caps"] = counts[column].str.count(r"[A-Z]")
    spelling = (counts.sort_values([0, "caps"], ascending=False, kind="stable")
                .drop_duplicates("k").set_index("k")[column])
    fixed = keys.map(spelling)
    changed = frame[column] != fixed
    rows.flag(changed, column, column + " " + frame[column].map(repr) + " read as "
              + fixed.map(repr))
    frame[column] = fixed


def _require(rows: _Rows, column: str, why: str) -> None:
    rows.drop(rows.frame[column] == "", column, f"{column} is empty; {why}")


def _dedupe(rows: _Rows, keys: pd.Series, column: str) -> None:
    """Drop later rows whose key repeats an earlier kept row's key."""
    frame = rows.frame
    live = ~rows.bad
    if not live.any():
        return
    first = frame.loc[live].groupby(keys[live], sort=False)["line"].transform("first")
    content = pd.util.hash_pandas_object(frame.drop(columns="line"), index=False)
    first_content = content[live].groupby(keys[live], sort=False).transform("first")
    later = (frame.loc[live, "line"] != first).reindex(frame.index, fill_value=False)
    same = (content[live] == first_content).reindex(frame.index, fill_value=False)
    where = "row " + first.reindex(frame.index).astype("Int64").astype(str)
    rows.drop(later & same, column, "exact duplicate of " + where)
    rows.drop(later & ~same, column, column + " " + frame[column].map(repr)
              + " already on " + where + " with other values; the first is kept")


def _lookup(rows: _Rows, column: str, table: dict[str, str], keys: pd.Series,
            source: str | pd.Series, action: str = DROPPED) -> pd.Series:
    """Match ``column`` against ``table`` (key to spelling); list misses."""
    frame = rows.frame
    found = keys.map(table)
    empty = frame[column] == ""
    unknown = found.isna() & ~empty
    rows.flag(empty, column, f"{column} is empty", action)
    if isinstance(source, str):
        source = f" is not in {source}"
    rows.flag(unknown, column, column + " " + frame[column].map(repr) + source, action)
    moved = found.notna() & (found != frame[column])
    rows.flag(moved, column, column + " " + frame[column].map(repr) + " matched to "
              + found.map(repr))
    return found


def _number(values: pd.Series) -> pd.Series:
    return pd.to_numeric(values.where(values != ""), errors="coerce")


def _date(values: pd.Series) -> pd.Series:
    return pd.to_datetime(values.where(values != ""), format="%Y-%m-%d",
                          errors="coerce")


# -- per-file checks -----------------------------------------------------------


def _check_teams(rows: _Rows, report: ImportReport) -> _Rows:
    _clean(rows)
    _require(rows, "sales_agent", "the row names no agent")
    _require(rows, "regional_office", "the agent's deals would have no region")
    _canonical(rows, "regional_office")
    _canonical(rows, "manager")
    rows.flag((rows.frame["manager"] == "") & ~rows.bad, "manager",
              "manager is empty; quota set from the agents of the region")
    _dedupe(rows, _key(rows.frame["sales_agent"]), "sales_agent")
    if rows.bad.all():
        rows.finish(report)
        raise CrmImportError(_nothing_left(rows), report)
    return rows


def _check_products(rows: _Rows, report: ImportReport) -> pd.DataFrame:
    _clean(rows)
    frame = rows.frame
    _require(rows, "product", "the row names no product")
    known = set(_key(frame.loc[frame["series"] != "", "series"]))
    head = frame["product"].str.split(" ").str[0]
    guess = (frame["series"] == "") & _key(head).isin(known) & ~rows.bad
    rows.flag(guess, "series", "series is empty; taken from the product name as "
              + head.map(repr))
    frame.loc[guess, "series"] = head[guess]
    _require(rows, "series", "no series could be taken from the product name")
    _canonical(rows, "series")
    if "sales_price" in frame:
        price = _number(frame["sales_price"])
        rows.flag(~(price > 0), "sales_price", "sales_price "
                  + frame["sales_price"].map(repr) + " is not a positive number; "
                  "not needed for calibration")
    _dedupe(rows, _compact(frame["product"]), "product")
    kept = rows.finish(report)
    if kept.empty:
        raise CrmImportError(_nothing_left(rows), report)
    return kept[["product", "series", "line"]].reset_index(drop=True)


def _check_accounts(rows: _Rows) -> _Rows:
    _clean(rows)
    frame = rows.frame
    _require(rows, "account", "the row names no account")
    _dedupe(rows, _key(frame["account"]), "account")
    revenue = _number(frame["revenue"])
    rows.flag(~(revenue >= 0), "revenue", "revenue " + frame["revenue"].map(repr)
              + " is not a non-negative number; account size unknown")
    frame["revenue"] = revenue.where(revenue >= 0)
    frame["key"] = _key(frame["account"])
    if "sector" in frame:
        _check_sector(rows)
    for column, low in (("employees", 0), ("year_established", 1800)):
        if column in frame:
            value = _number(frame[column])
            high = pd.Timestamp.now().year if column == "year_established" else None
            odd = ~value.between(low, high if high else float("inf"))
            rows.flag(odd & (frame[column] != ""), column, column + " "
                      + frame[column].map(repr) + " is implausible; not needed for "
                      "calibration")
    if "subsidiary_of" in frame:
        parent = frame["subsidiary_of"]
        orphan = (parent != "") & ~_key(parent).isin(set(frame["key"]))
        rows.flag(orphan, "subsidiary_of", "parent " + parent.map(repr)
                  + f" is not in {ACCOUNTS}")
    return rows


def _check_sector(rows: _Rows) -> None:
    sector = rows.frame["sector"]

    def nearest(value: str) -> str:
        match = difflib.get_close_matches(value.lower(), KNOWN_SECTORS, 1, 0.85)
        return match[0] if match else value

    fixed = sector.map(nearest)
    rows.flag(fixed != sector, "sector", "sector " + sector.map(repr)
              + " corrected to " + fixed.map(repr))
    rows.frame["sector"] = fixed


def _check_pipeline(rows: _Rows, teams: _Rows, products: pd.DataFrame,
                    accounts: _Rows) -> _Rows:
    _clean(rows)
    frame = rows.frame
    _require(rows, "opportunity_id", "the deal cannot be told apart")
    _match_agent(rows, teams)
    product_of = dict(zip(_compact(products["product"]), products["product"],
                          strict=True))
    frame["product"] = _lookup(rows, "product", product_of,
                               _compact(frame["product"]), PRODUCTS)
    frame["series"] = frame["product"].map(dict(zip(products["product"],
                                                    products["series"], strict=True)))
    _match_stage(rows)
    _match_account(rows, accounts)
    _dedupe(rows, frame["opportunity_id"], "opportunity_id")
    _check_dates(rows)
    _check_value(rows)
    return rows


def _match_agent(rows: _Rows, teams: _Rows) -> None:
    agents = teams.frame.loc[~teams.bad]
    table = dict(zip(_key(agents["sales_agent"]), agents["sales_agent"], strict=True))
    frame = rows.frame
    keys = _key(frame["sales_agent"])
    gone = teams.frame.loc[teams.bad]
    gone_line = keys.map(dict(zip(_key(gone["sales_agent"]), gone["line"],
                                  strict=True)))
    why = (f" has no usable row in {TEAMS} (see its row "
           + gone_line.astype("Int64").astype(str) + ")").where(
        gone_line.notna(), f" is not in {TEAMS}")
    frame["sales_agent"] = _lookup(rows, "sales_agent", table, keys, why)
    by_agent = agents.set_index("sales_agent")
    frame["region"] = frame["sales_agent"].map(by_agent["regional_office"])
    frame["manager"] = frame["sales_agent"].map(by_agent["manager"])


def _match_stage(rows: _Rows) -> None:
    frame = rows.frame
    table = {s.casefold(): s for s in STAGES}
    stage = frame["deal_stage"].str.casefold().map(table)
    rows.drop(stage.isna(), "deal_stage", "deal_stage " + frame["deal_stage"].map(repr)
              + " is not one of " + ", ".join(STAGES))
    rows.flag(stage.notna() & (stage != frame["deal_stage"]), "deal_stage",
              "deal_stage " + frame["deal_stage"].map(repr) + " read as "
              + stage.map(repr))
    frame["deal_stage"] = stage


def _match_account(rows: _Rows, accounts: _Rows) -> None:
    frame = rows.frame
    live = accounts.frame.loc[~accounts.bad]
    table = dict(zip(live["key"], live["account"], strict=True))
    note = "; not counted for the agent's customer type"
    keys = _key(frame["account"])
    found = keys.map(table)
    rows.flag(frame["account"] == "", "account", "account is empty" + note)
    rows.flag(found.isna() & (frame["account"] != ""), "account", "account "
              + frame["account"].map(repr) + f" is not in {ACCOUNTS}" + note)
    rows.flag(found.notna() & (found != frame["account"]), "account", "account "
              + frame["account"].map(repr) + " matched to " + found.map(repr))
    frame["account"] = keys.where(found.notna(), "")


def _check_dates(rows: _Rows) -> None:
    frame = rows.frame
    stage = frame["deal_stage"]
    closed = stage.isin(["Won", "Lost"])
    no_engage = frame["engage_date"] == ""
    rows.flag(no_engage & (stage == "Prospecting"), "engage_date", "Prospecting deal "
              "without engage_date; not counted in arrivals")
    rows.flag(no_engage & (stage != "Prospecting"), "engage_date", "engage_date is "
              "empty on a " + stage.astype(str) + " deal; not counted in arrivals "
              "or cycle")
    rows.flag(closed & (frame["close_date"] == ""), "close_date", "close_date is "
              "empty on a closed deal; cycle not measured")
    rows.flag(~closed & (frame["close_date"] != ""), "close_date", "open deal has "
              "close_date " + frame["close_date"].map(repr) + "; ignored")
    engage = _parse_date(rows, "engage_date", ENGAGE_EFFECT)
    close = _parse_date(rows, "close_date", CLOSE_EFFECT).where(closed)
    engage, close = _drop_isolated(rows, engage, close)
    days = (close - engage).dt.days
    rows.flag(days < 0, "close_date", "close_date before engage_date; cycle not "
              "measured")
    rows.flag(days == 0, "close_date", "close_date equals engage_date; cycle "
              "counted as 1 day")
    frame["engage"], frame["close"] = engage, close
    frame["cycle_days"] = days.where(days >= 0).clip(lower=1).astype(float)


def _parse_date(rows: _Rows, column: str, effect: str) -> pd.Series:
    raw = rows.frame[column]
    parsed = _date(raw)
    rows.flag(parsed.isna() & (raw != ""), column, column + " " + raw.map(repr)
              + f" is not a date (YYYY-MM-DD); {effect}")
    return parsed


def _drop_isolated(rows: _Rows, engage: pd.Series,
                   close: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Blank out dates cut off from the export's other dates (typos of a year)."""
    low, high = _bulk(pd.concat([engage, close]).where(~pd.concat([rows.bad] * 2)))
    if low is None:
        return engage, close
    out = []
    for column, dates, effect in (("engage_date", engage, ENGAGE_EFFECT),
                                  ("close_date", close, CLOSE_EFFECT)):
        far = dates.notna() & ((dates < low) | (dates > high))
        rows.flag(far, column, column + " " + rows.frame[column].map(repr)
                  + f" lies over {ISOLATION_DAYS} days away from the export's other "
                  f"dates; {effect}")
        out.append(dates.where(~far))
    return out[0], out[1]


def _bulk(dates: pd.Series) -> tuple[Any, Any]:
    """First and last date of the run of dates holding the median one.

    Returns ``(None, None)`` when no date is known or when more than
    ``ISOLATED_SHARE`` of the dates lie outside the run: then the export has
    gaps, not typos.
    """
    dates = dates.dropna()
    known = dates.drop_duplicates().sort_values().to_numpy()
    if not len(known):
        return None, None
    gaps = np.flatnonzero(np.diff(known) > np.timedelta64(ISOLATION_DAYS, "D"))
    middle = len(known) // 2
    below, above = gaps[gaps < middle], gaps[gaps >= middle]
    low = known[below.max() + 1] if below.size else known[0]
    high = known[above.min()] if above.size else known[-1]
    outside = ((dates < low) | (dates > high)).sum()
    if outside > ISOLATED_SHARE * len(dates):
        return None, None
    return low, high


# Largest deal value believed (currency units); larger or infinite values are
# reported and left out rather than allowed to swamp the deal-size figures.
MAX_DEAL_VALUE = 1e12

def _check_value(rows: _Rows) -> None:
    frame = rows.frame
    raw, stage = frame["close_value"], frame["deal_stage"]
    value = _number(raw)
    won = stage == "Won"
    rows.flag(won & (raw == ""), "close_value", "close_value is empty on a Won "
              "deal; not counted in deal value")
    rows.flag(won & (raw != "") & ~(value > 0), "close_value", "close_value "
              + raw.map(repr) + " on a Won deal is not a positive number; not "
              "counted in deal value")
    absurd = won & (value > 0) & ~(value <= MAX_DEAL_VALUE)
    rows.flag(absurd, "close_value", "close_value " + raw.map(repr) + " on a Won "
              f"deal is above {MAX_DEAL_VALUE:,.0f} or not finite; not counted "
              "in deal value")
    rows.flag((stage == "Lost") & (raw != "") & (value != 0), "close_value",
              "Lost deal has close_value " + raw.map(repr) + "; read as 0")
    rows.flag(stage.isin(["Prospecting", "Engaging"]) & (raw != ""), "close_value",
              "open deal has close_value " + raw.map(repr) + "; ignored")
    frame["value"] = value.where(won & (value > 0) & ~absurd)
