"""Calibration of demand and reps: the real export, a hand-made one, properties."""

from __future__ import annotations

import csv
import math
import tempfile
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from models import calibration
from models.calibration import calibrate

CRM = Path(__file__).resolve().parents[2] / "shared" / "data" / "crm"
PIPELINE_HEADER = ("opportunity_id,sales_agent,product,account,deal_stage,"
                   "engage_date,close_date,close_value")


def rows_of(name: str) -> list[dict[str, str]]:
    with (CRM / name).open(newline="", encoding="utf-8-sig") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def real():
    if not (CRM / "sales_pipeline.csv").is_file():
        pytest.skip(f"the CRM export is not at {CRM} (it is never committed)")
    return calibrate(CRM)


@pytest.fixture(scope="module")
def raw():
    """The export read independently with the csv module."""
    if not (CRM / "sales_pipeline.csv").is_file():
        pytest.skip(f"the CRM export is not at {CRM} (it is never committed)")
    teams, products = rows_of("sales_teams.csv"), rows_of("products.csv")
    region = {r["sales_agent"]: r["regional_office"] for r in teams}
    series = {r["product"].replace(" ", ""): r["series"] for r in products}
    deals = rows_of("sales_pipeline.csv")
    for d in deals:
        d["region"] = region[d["sales_agent"]]
        d["series"] = series[d["product"].replace(" ", "")]
    return {"deals": deals, "region": region, "products": products,
            "accounts": rows_of("accounts.csv")}


def streams_of(result) -> dict[tuple[str, str], dict]:
    return {(s["region"], s["solution"]): s for s in result.demand["streams"]}


def test_real_export_opportunities_per_region_and_series(real, raw):
    expected = Counter((d["region"], d["series"]) for d in raw["deals"])
    got = {key: s["opportunities"] for key, s in streams_of(real).items()}
    assert got == dict(expected)
    assert set(got) == {(r, s) for r in ("Central", "East", "West")
                        for s in ("GTK", "GTX", "MG")}
    assert real.demand["source"] == "crm, 8800 opportunities"


def cycle_of(deal: dict[str, str]) -> int:
    days = (date.fromisoformat(deal["close_date"])
            - date.fromisoformat(deal["engage_date"])).days
    return max(days, 1)


def cohort_of(raw) -> list[dict[str, str]]:
    """Closed deals engaged from 2017-03-01 to the longest cycle before the end."""
    closed = [d for d in raw["deals"] if d["deal_stage"] in ("Won", "Lost")]
    longest = max(cycle_of(d) for d in closed)
    last = (date(2017, 12, 31) - timedelta(days=longest)).isoformat()
    assert (longest, last) == (138, "2017-08-15")
    return [d for d in closed if "2017-03-01" <= d["engage_date"] <= last]


def test_real_export_win_rates_from_the_observed_cohort(real, raw):
    cohort = cohort_of(raw)
    won = Counter((d["region"], d["series"]) for d in cohort
                  if d["deal_stage"] == "Won")
    lost = Counter((d["region"], d["series"]) for d in cohort
                   if d["deal_stage"] == "Lost")
    for (region, series), stream in streams_of(real).items():
        w, n = won[region, series], won[region, series] + lost[region, series]
        if n < calibration.MIN_DEALS:  # pooled over the solution's regions
            w = sum(v for (_, s), v in won.items() if s == series)
            n = w + sum(v for (_, s), v in lost.items() if s == series)
        if n < calibration.MIN_DEALS:  # ... or over all deals
            w, n = sum(won.values()), sum(won.values()) + sum(lost.values())
        assert stream["win_rate"] == pytest.approx(w / n, abs=5e-5)
    assert sum(won.values()) == 2273 and sum(lost.values()) == 1445
    closed = [d["deal_stage"] for d in raw["deals"]]
    assert closed.count("Won") == 4238 and closed.count("Lost") == 2473


def test_real_export_quantiles_of_one_stream(real, raw):
    stream = streams_of(real)["East", "GTX"]
    probabilities = np.linspace(0, 1, 41)
    values = [float(d["close_value"]) for d in raw["deals"]
              if (d["region"], d["series"], d["deal_stage"]) == ("East", "GTX", "Won")]
    cycles = [cycle_of(d) for d in cohort_of(raw)
              if (d["region"], d["series"]) == ("East", "GTX")]
    assert len(values) >= calibration.MIN_DEALS
    assert len(cycles) >= calibration.MIN_DEALS
    for got, sample in [(stream["deal_value_quantiles"], values),
                        (stream["cycle_days_quantiles"], cycles)]:
        assert len(got) == 41
        assert got == pytest.approx(np.quantile(sample, probabilities), rel=1e-5)
    assert (stream["deal_value_mu"], stream["deal_value_sigma"]) == pytest.approx(
        (np.log(values).mean(), np.log(values).std()), abs=1e-4)


def test_real_export_arrivals_are_engagements_per_month(real, raw):
    months = Counter((d["region"], d["series"], d["engage_date"][:7])
                     for d in raw["deals"] if d["engage_date"] >= "2017-03-01")
    for (region, series), stream in streams_of(real).items():
        counts = [months[region, series, f"2017-{m:02d}"] for m in range(3, 13)]
        if sum(counts) < calibration.MIN_ARRIVALS:
            continue
        assert stream["arrivals_per_month"][2:] == counts
        mean = sum(counts) / 10
        assert stream["arrivals_per_month"][:2] == [pytest.approx(mean, abs=1e-4)] * 2


def test_real_export_reps_per_region(real, raw):
    with_deals = {d["sales_agent"] for d in raw["deals"]}
    expected = Counter(raw["region"][a] for a in with_deals)
    assert Counter(r["region"] for r in real.reps) == expected
    assert sorted(r["name"] for r in real.reps) == sorted(with_deals)
    for rep in real.reps:
        assert rep["quarterly_quota"] % 1000 == 0 and rep["quarterly_quota"] > 0
        assert rep["customer_type"] in ("key_account", "commercial")


def test_real_export_every_row_accounted_for(real, raw):
    counts = real.report.counts
    for name in ("sales_pipeline.csv", "sales_teams.csv", "products.csv",
                 "accounts.csv"):
        lines = (CRM / name).read_text(encoding="utf-8-sig").splitlines()
        assert counts[name].read == len(lines) - 1
        assert counts[name].read == counts[name].used + counts[name].dropped


def test_real_export_each_defect_reported_once_per_row(real, raw):
    deals = raw["deals"]
    product_names = {p["product"] for p in raw["products"]}
    with_deals = {d["sales_agent"] for d in deals}
    expected = Counter({
        ("sales_pipeline.csv", "product", "used"):
            sum(d["product"] not in product_names for d in deals),
        ("sales_pipeline.csv", "account", "used"):
            sum(d["account"] == "" for d in deals),
        ("sales_pipeline.csv", "engage_date", "used"):
            sum(d["deal_stage"] == "Prospecting" and d["engage_date"] == ""
                for d in deals),
        ("sales_teams.csv", "sales_agent", "dropped"):
            sum(a not in with_deals for a in raw["region"]),
        ("accounts.csv", "sector", "used"):
            sum(a["sector"] == "technolgy" for a in raw["accounts"]),
    })
    got = Counter((i.file, i.field, i.action) for i in real.report.issues)
    assert got == expected
    assert list(expected.values()) == [1480, 1425, 500, 5, 12]
    assert all("'GTXPro' matched to 'GTX Pro'" in i.reason
               for i in real.report.issues if i.field == "product")


def test_real_export_pooling_is_reported(real):
    notes = "\n".join(real.report.notes)
    assert "East/GTK: win_rate pooled from all deals" in notes
    assert ("win rate and cycle from the 3718 closed deals engaged 2017-03-01 to "
            "2017-08-15") in notes
    assert "West/GTK: deal value pooled from solution GTK" in notes
    assert "arrivals counted from 2017-03-01 to 2017-12-31" in notes
    summary = real.report.summary().splitlines()
    assert summary[1] == ("sales_teams.csv: 35 rows read, 30 used (0 with a repair "
                          "or limitation), 5 dropped")


# -- a hand-made export ---------------------------------------------------------

HAND_TEAMS = ("sales_agent,manager,regional_office\nA,M1,East\nB,M1,East\n"
              "C,M2,West\n")
HAND_PRODUCTS = "product,series,sales_price\nGTX Pro,GTX,4821\nMG Special,MG,55\n"
HAND_ACCOUNTS = "account,revenue\nBig,2000\nSmall,100\n"
HAND_DEALS = [
    "o2,A,GTX Pro,Big,Won,2017-02-10,2017-03-01,1000",  # before the window
    "o3,A,GTX Pro,Big,Lost,2017-03-05,2017-03-15,0",
    "o4,B,GTX Pro,Small,Won,2017-03-20,2017-04-09,4000",
    "o5,B,GTX Pro,,Engaging,2017-04-02,,",
    "o6,A,GTX Pro,Big,Prospecting,,,",
    "o7,A,MG Special,Big,Won,2017-04-01,2017-04-21,50",
    "o8,C,GTX Pro,Small,Lost,2017-05-01,2017-05-31,0",
    "o9,C,MG Special,Small,Won,2017-05-10,2017-05-30,60",
    "o10,C,MG Special,Big,Won,2017-05-11,2017-05-16,40",
]


def write_hand_export(folder: Path, deals: list[str] = HAND_DEALS,
                      teams: str = HAND_TEAMS) -> Path:
    files = {"sales_pipeline.csv": "\n".join([PIPELINE_HEADER, *deals]) + "\n",
             "sales_teams.csv": teams, "products.csv": HAND_PRODUCTS,
             "accounts.csv": HAND_ACCOUNTS}
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def lognormal(*values: float) -> tuple[float, float]:
    logs = [math.log(v) for v in values]
    mu = sum(logs) / len(logs)
    return mu, math.sqrt(sum((x - mu) ** 2 for x in logs) / len(logs))


def assert_stream(stream: dict, arrivals, win, value, cycle, n) -> None:
    assert stream["arrivals_per_month"] == pytest.approx(arrivals, abs=1e-4)
    assert stream["win_rate"] == pytest.approx(win, abs=1e-4)
    assert (stream["deal_value_mu"], stream["deal_value_sigma"]) == \
        pytest.approx(value, abs=1e-4)
    assert (stream["cycle_days_mu"], stream["cycle_days_sigma"]) == \
        pytest.approx(cycle, abs=1e-4)
    assert stream["opportunities"] == n


def test_hand_made_export_unpooled(tmp_path, monkeypatch):
    # Window: first close 2017-03-01 to last date 2017-05-31, so March, April
    # and May are each observed once; the other months take the mean rate.
    # The longest cycle is 30 days, so win rate and cycle come from the closed
    # deals engaged 2017-03-01 to 2017-05-01: o3, o4, o7 and o8.
    monkeypatch.setattr(calibration, "MIN_DEALS", 1)
    monkeypatch.setattr(calibration, "MIN_ARRIVALS", 0)
    result = calibrate(write_hand_export(tmp_path))
    s = streams_of(result)
    one = [1.0] * 12
    assert_stream(s["East", "GTX"], one[:2] + [2, 1, 0] + one[5:], 1 / 2,
                  lognormal(1000, 4000), lognormal(10, 20), 5)
    third = [1 / 3] * 12
    assert_stream(s["East", "MG"], third[:2] + [0, 1, 0] + third[5:], 1.0,
                  (math.log(50), 0.0), (math.log(20), 0.0), 1)
    assert_stream(s["West", "GTX"], third[:2] + [0, 0, 1] + third[5:], 0.0,
                  lognormal(1000, 4000), (math.log(30), 0.0), 1)
    two = [2 / 3] * 12
    assert_stream(s["West", "MG"], two[:2] + [0, 0, 2] + two[5:], 1.0,
                  (math.log(math.sqrt(2400)), math.log(1.5) / 2),
                  (math.log(20), 0.0), 2)
    notes = result.report.notes
    assert "West/GTX: deal value pooled from solution GTX" in notes[-4]
    assert notes[-2] == ("West/MG: cycle pooled from solution MG (0 closed deals of "
                         "the observed cohort in the stream, fewer than 1)")
    assert s["West", "MG"]["deal_value_quantiles"] == pytest.approx(
        np.quantile([50, 60, 40], np.linspace(0, 1, 41)))
    assert s["West", "MG"]["deal_value_quantiles"][::20] == [40, 50, 60]


def test_hand_made_export_pooled_and_reps(tmp_path):
    result = calibrate(write_hand_export(tmp_path))
    s = streams_of(result)
    # Every stream is thin: its own mean rate times the profile of all streams
    # (Mar 2, Apr 2, May 3, other months 7/3; the profile's mean is 7/3).
    shape = [1.0] * 12
    shape[2:5] = [2 / (7 / 3), 2 / (7 / 3), 3 / (7 / 3)]
    everyone = (2 / 4, lognormal(10, 20, 20, 30))
    mg = lognormal(50, 60, 40)
    for key, level, value, n in [(("East", "GTX"), 1, lognormal(1000, 4000), 5),
                                 (("East", "MG"), 1 / 3, mg, 1),
                                 (("West", "GTX"), 1 / 3, lognormal(1000, 4000), 1),
                                 (("West", "MG"), 2 / 3, mg, 2)]:
        assert_stream(s[key], [level * x for x in shape], everyone[0], value,
                      everyone[1], n)
    # One quarter of close dates; won revenue A 1050, B 4000, C 100.
    assert result.reps == [
        {"name": "A", "region": "East", "customer_type": "key_account",
         "quarterly_quota": 3000, "attainment": 0.35},
        {"name": "B", "region": "East", "customer_type": "commercial",
         "quarterly_quota": 3000, "attainment": 1.3333},
        {"name": "C", "region": "West", "customer_type": "commercial",
         "quarterly_quota": 1000, "attainment": 0.1},
    ]
    assert result.to_scenario_tables() == {"demand": result.demand,
                                           "reps": result.reps}


def test_export_without_closed_deals_cannot_be_calibrated(tmp_path):
    write_hand_export(tmp_path, ["o1,A,GTX Pro,Big,Engaging,2017-03-01,,"])
    with pytest.raises(calibration.CrmImportError) as err:
        calibrate(tmp_path)
    assert str(err.value) == ("sales_pipeline.csv: no usable row is a Won or Lost "
                              "deal; win rates need at least one; add such deals "
                              "to the export")


# -- property: every row accounted for ------------------------------------------

AGENTS = {"A": "East", "B": "East", "C": "West", "D": "North"}
STAGES = ["Prospecting", "Engaging", "Won", "Lost"]


@st.composite
def deal_lines(draw) -> list[str]:
    lines = ["o0,A,GTX Pro,Big,Won,2017-01-02,2017-01-20,900"]
    for n in range(1, draw(st.integers(0, 25)) + 1):
        agent = draw(st.sampled_from([*AGENTS, "Nobody"]))
        product = draw(st.sampled_from(["GTX Pro", "MG Special", "GTXPro", "Nope"]))
        stage = draw(st.sampled_from(STAGES))
        day = draw(st.integers(1, 300))
        engage = "" if stage == "Prospecting" else _date(day)
        close = _date(day + draw(st.integers(0, 90))) if stage in STAGES[2:] else ""
        value = str(draw(st.integers(-5, 5000))) if stage in STAGES[2:] else ""
        oid = f"o{draw(st.integers(0, n))}"  # sometimes a duplicate id
        lines.append(",".join([oid, agent, product, draw(st.sampled_from(
            ["Big", "Small", "", "Gone"])), stage, engage, close, value]))
    return lines


def _date(day: int) -> str:
    return f"2017-{1 + (day - 1) // 28 % 12:02d}-{1 + (day - 1) % 28:02d}"


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(deal_lines())
def test_every_row_is_used_or_dropped(deals):
    teams = "sales_agent,manager,regional_office\n" + "".join(
        f"{a},M,{r}\n" for a, r in AGENTS.items())
    with tempfile.TemporaryDirectory() as folder:
        result = calibrate(write_hand_export(Path(folder), deals, teams))
    for name, c in result.report.counts.items():
        assert c.read == c.used + c.dropped, name
    used = result.report.counts["sales_pipeline.csv"].used
    assert sum(s["opportunities"] for s in result.demand["streams"]) == used
    assert result.report.counts["sales_pipeline.csv"].read == len(deals)
    for stream in result.demand["streams"]:
        assert 0 <= stream["win_rate"] <= 1
        assert min(stream["arrivals_per_month"]) >= 0
