"""Reading a messy CRM export: every bad row reported, every bad file explained."""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd
import pytest

from models.crm import CrmImportError, read_crm_export, write_report_csv

PIPELINE_HEADER = ("opportunity_id,sales_agent,product,account,deal_stage,"
                   "engage_date,close_date,close_value")
GOOD_DEALS = [
    "OPP1,Ann Lee,GTX Pro,BigCo,Won,2017-03-01,2017-03-20,4800",
    "OPP2,Bob Kay,MG Special,SmallCo,Lost,2017-03-05,2017-04-01,0",
    "OPP3,Cyd Orr,GTX Pro,,Engaging,2017-04-02,,",
    "OPP4,Ann Lee,MG Special,BigCo,Prospecting,,,",
]
TEAMS = ("sales_agent,manager,regional_office\nAnn Lee,Mia Ray,East\n"
         "Bob Kay,Mia Ray,East\nCyd Orr,Tom Fox,West\n")
PRODUCTS = "product,series,sales_price\nGTX Pro,GTX,4821\nMG Special,MG,55\n"
ACCOUNTS = ("account,sector,year_established,revenue,employees,office_location,"
            "subsidiary_of\nBigCo,retail,1990,2500.5,3000,United States,\n"
            "SmallCo,software,2005,120,90,United States,BigCo\n")


def write_export(folder: Path, deals: list[str] | None = None, **files: str) -> Path:
    """Write a small export; ``files`` replaces whole files by short name."""
    texts = {
        "sales_pipeline": "\n".join([PIPELINE_HEADER, *(deals or GOOD_DEALS)]) + "\n",
        "sales_teams": TEAMS, "products": PRODUCTS, "accounts": ACCOUNTS,
    }
    texts.update(files)
    for name, text in texts.items():
        if text is not None:
            (folder / f"{name}.csv").write_text(text, encoding="utf-8")
    return folder


def issues(export, file: str = "sales_pipeline.csv") -> dict[int, list[tuple]]:
    """Issues of one file keyed by row: (field, action, reason)."""
    out: dict[int, list[tuple]] = {}
    for i in export.report.issues_of(file):
        out.setdefault(i.row, []).append((i.field, i.action, i.reason))
    return out


def assert_balanced(export) -> None:
    for name, c in export.report.counts.items():
        assert c.read == c.used + c.dropped, name
        rows = export.report.issues_of(name)
        dropped = {i.row for i in rows if i.action == "dropped"}
        assert len(dropped) == c.dropped, name
    assert len(export.pipeline) == export.report.counts["sales_pipeline.csv"].used


def assert_plain(message: str) -> None:
    for marker in ("Traceback", "Error(", "KeyError", "line 1, in", "dtype"):
        assert marker not in message


def test_clean_export_reads_without_issues_except_its_open_deals(tmp_path):
    export = read_crm_export(write_export(tmp_path))
    assert_balanced(export)
    assert issues(export) == {
        4: [("account", "used",
             "account is empty; not counted for the agent's customer type")],
        5: [("engage_date", "used",
             "Prospecting deal without engage_date; not counted in arrivals")],
    }
    assert list(export.pipeline["region"]) == ["East", "East", "West", "East"]


def test_missing_file_names_the_file_and_what_belongs_there(tmp_path):
    write_export(tmp_path, products=None)
    with pytest.raises(CrmImportError) as err:
        read_crm_export(tmp_path)
    message = str(err.value)
    assert message.startswith("products.csv: file not found in ")
    assert "needs sales_pipeline.csv, sales_teams.csv, products.csv, accounts.csv" \
        in message
    assert_plain(message)


def test_missing_folder_is_explained(tmp_path):
    with pytest.raises(CrmImportError, match="no such folder; pass the folder"):
        read_crm_export(tmp_path / "nowhere")


def test_missing_column_lists_what_the_export_needs(tmp_path):
    header = PIPELINE_HEADER.replace(",close_value", "")
    text = header + "\nOPP1,Ann Lee,GTX Pro,BigCo,Won,2017-03-01,2017-03-20\n"
    write_export(tmp_path, sales_pipeline=text)
    with pytest.raises(CrmImportError) as err:
        read_crm_export(tmp_path)
    assert str(err.value) == (
        "sales_pipeline.csv: missing column 'close_value'; the export needs "
        "columns opportunity_id, sales_agent, product, account, deal_stage, "
        "engage_date, close_date, close_value (found: opportunity_id, "
        "sales_agent, product, account, deal_stage, engage_date, close_date)")


def test_problems_of_several_files_come_in_one_message(tmp_path):
    write_export(tmp_path, sales_teams="agent,region\nAnn Lee,East\n",
                 accounts="")
    with pytest.raises(CrmImportError) as err:
        read_crm_export(tmp_path)
    lines = str(err.value).splitlines()
    assert lines[0].startswith("sales_teams.csv: missing columns 'sales_agent', "
                               "'manager', 'regional_office'")
    assert lines[1] == ("accounts.csv: the file is empty or its first line is "
                        "blank; the first line must be the header account,revenue")


def test_header_only_pipeline_has_nothing_to_calibrate(tmp_path):
    write_export(tmp_path, sales_pipeline=PIPELINE_HEADER + "\n")
    with pytest.raises(CrmImportError) as err:
        read_crm_export(tmp_path)
    assert str(err.value) == ("sales_pipeline.csv: no data rows after the header; "
                              "the export must list the opportunities")


def test_text_that_is_not_utf8_is_refused_with_the_fix(tmp_path):
    write_export(tmp_path)
    (tmp_path / "accounts.csv").write_bytes(ACCOUNTS.replace("BigCo", "Bíg")
                                            .encode("latin-1"))
    with pytest.raises(CrmImportError) as err:
        read_crm_export(tmp_path)
    assert str(err.value).startswith("accounts.csv: not UTF-8 text (byte 0xed at ")
    assert str(err.value).endswith("save the export as 'CSV UTF-8' and import again")


def test_garbage_lines_are_dropped_one_line_each(tmp_path):
    deals = [GOOD_DEALS[0], "", "this is not, a deal", PIPELINE_HEADER,
             'OPP9,"Ann Lee,GTX Pro,BigCo,Won,2017-03-01,2017-03-20,1',
             "#####,,,,,,,", GOOD_DEALS[1] + ",,", GOOD_DEALS[2] + ",x"]
    export = read_crm_export(write_export(tmp_path, deals))
    assert_balanced(export)
    got = issues(export)
    assert got[3] == [("*", "dropped", "blank line")]
    assert got[4] == [("*", "dropped", "line has 2 fields, the header has 8")]
    assert got[5] == [("*", "dropped", "header line repeated")]
    assert got[6] == [("*", "dropped", "line has 2 fields, the header has 8")]
    assert ("sales_agent", "dropped", "sales_agent is empty") in got[7]
    assert got[8] == [("*", "used", "2 trailing empty fields ignored")]
    assert got[9] == [("*", "dropped", "line has 9 fields, the header has 8")]
    assert list(export.pipeline["opportunity_id"]) == ["OPP1", "OPP2"]


def test_unknown_agent_product_and_stage_drop_the_row(tmp_path):
    deals = [*GOOD_DEALS,
             "OPP5,Zed Nobody,GTX Pro,BigCo,Won,2017-03-01,2017-03-20,100",
             "OPP6,Ann Lee,Quantum X,BigCo,Won,2017-03-01,2017-03-20,100",
             "OPP7,Ann Lee,GTX Pro,BigCo,Closed,2017-03-01,2017-03-20,100"]
    export = read_crm_export(write_export(tmp_path, deals))
    assert_balanced(export)
    got = issues(export)
    assert got[6] == [("sales_agent", "dropped",
                       "sales_agent 'Zed Nobody' is not in sales_teams.csv")]
    assert got[7] == [("product", "dropped",
                       "product 'Quantum X' is not in products.csv")]
    assert got[8] == [("deal_stage", "dropped", "deal_stage 'Closed' is not one "
                       "of Prospecting, Engaging, Won, Lost")]


def test_near_miss_names_are_matched_and_reported(tmp_path):
    deals = ["OPP1,ann  LEE,GTXPro,bigco,won,2017-03-01,2017-03-20,4800",
             *GOOD_DEALS[1:]]
    export = read_crm_export(write_export(tmp_path, deals))
    assert_balanced(export)
    assert issues(export)[2] == [
        ("sales_agent", "used", "stray whitespace in 'ann  LEE'"),
        ("sales_agent", "used", "sales_agent 'ann LEE' matched to 'Ann Lee'"),
        ("product", "used", "product 'GTXPro' matched to 'GTX Pro'"),
        ("deal_stage", "used", "deal_stage 'won' read as 'Won'"),
        ("account", "used", "account 'bigco' matched to 'BigCo'"),
    ]
    row = export.pipeline.iloc[0]
    assert (row["sales_agent"], row["product"], row["series"]) == (
        "Ann Lee", "GTX Pro", "GTX")


def test_bad_dates_are_reported_and_keep_the_deal(tmp_path):
    # 200 ordinary deals make the two typo years at most 1% of the dates.
    ordinary = [f"F{n},Bob Kay,GTX Pro,SmallCo,Won,2017-04-{1 + n % 28:02d},"
                f"2017-05-{1 + n % 28:02d},100" for n in range(200)]
    deals = [*GOOD_DEALS,
             "OPP5,Ann Lee,GTX Pro,BigCo,Won,2017-02-30,2017-03-20,100",
             "OPP6,Ann Lee,GTX Pro,BigCo,Lost,2017-03-10,03/20/2017,0",
             "OPP7,Ann Lee,GTX Pro,BigCo,Won,2017-05-10,2017-04-01,100",
             "OPP8,Ann Lee,GTX Pro,BigCo,Lost,2017-05-10,2017-05-10,0",
             "OPP9,Ann Lee,GTX Pro,BigCo,Engaging,2017-05-10,2017-06-01,",
             "OPP10,Ann Lee,GTX Pro,BigCo,Won,2017-05-10,2071-06-01,3",
             "OPP11,Ann Lee,GTX Pro,BigCo,Engaging,2007-05-10,,", *ordinary]
    export = read_crm_export(write_export(tmp_path, deals))
    assert_balanced(export)
    got = issues(export)
    assert got[6] == [("engage_date", "used", "engage_date '2017-02-30' is not a "
                       "date (YYYY-MM-DD); not counted in arrivals or cycle")]
    assert got[7] == [("close_date", "used", "close_date '03/20/2017' is not a "
                       "date (YYYY-MM-DD); cycle not measured")]
    assert got[8] == [("close_date", "used",
                       "close_date before engage_date; cycle not measured")]
    assert got[9] == [("close_date", "used",
                       "close_date equals engage_date; cycle counted as 1 day")]
    assert got[10] == [("close_date", "used",
                        "open deal has close_date '2017-06-01'; ignored")]
    assert got[11] == [("close_date", "used", "close_date '2071-06-01' lies over "
                        "180 days away from the export's other dates; cycle not "
                        "measured")]
    assert got[12] == [("engage_date", "used", "engage_date '2007-05-10' lies over "
                        "180 days away from the export's other dates; not counted "
                        "in arrivals or cycle")]
    assert export.pipeline["close"].max() == pd.Timestamp("2017-05-28")
    cycles = export.pipeline.set_index("opportunity_id")["cycle_days"]
    assert cycles[["OPP1", "OPP8"]].tolist() == [19.0, 1.0]
    assert cycles[["OPP5", "OPP6", "OPP7", "OPP9", "OPP10"]].isna().all()


def test_negative_and_absent_values_are_not_deal_values(tmp_path):
    deals = [*GOOD_DEALS,
             "OPP5,Ann Lee,GTX Pro,BigCo,Won,2017-03-01,2017-03-20,-4800",
             "OPP6,Ann Lee,GTX Pro,BigCo,Won,2017-03-01,2017-03-20,",
             "OPP7,Ann Lee,GTX Pro,BigCo,Lost,2017-03-01,2017-03-20,-3",
             "OPP8,Ann Lee,GTX Pro,BigCo,Engaging,2017-03-01,,12"]
    export = read_crm_export(write_export(tmp_path, deals))
    assert_balanced(export)
    got = issues(export)
    assert got[6] == [("close_value", "used", "close_value '-4800' on a Won deal "
                       "is not a positive number; not counted in deal value")]
    assert got[7] == [("close_value", "used", "close_value is empty on a Won "
                       "deal; not counted in deal value")]
    assert got[8] == [("close_value", "used",
                       "Lost deal has close_value '-3'; read as 0")]
    assert got[9] == [("close_value", "used",
                       "open deal has close_value '12'; ignored")]
    assert export.pipeline["value"].dropna().tolist() == [4800.0]


def test_duplicated_ids_keep_the_first_row(tmp_path):
    deals = [*GOOD_DEALS, GOOD_DEALS[0],
             "OPP2,Bob Kay,MG Special,SmallCo,Won,2017-03-05,2017-04-01,60",
             " OPP3 ,Cyd Orr,GTX Pro,,Engaging,2017-04-02,,"]
    export = read_crm_export(write_export(tmp_path, deals))
    assert_balanced(export)
    got = issues(export)
    assert got[6] == [("opportunity_id", "dropped", "exact duplicate of row 2")]
    assert got[7] == [("opportunity_id", "dropped", "opportunity_id 'OPP2' already "
                       "on row 3 with other values; the first is kept")]
    assert got[8] == [("opportunity_id", "dropped", "exact duplicate of row 4")]
    assert export.report.counts["sales_pipeline.csv"].dropped == 3


def test_bom_and_stray_whitespace_are_repaired(tmp_path):
    header = "\ufeff Opportunity ID ,Sales Agent,product,account,deal_stage," \
             "engage_date,close_date,close_value"
    rows = ["OPP1 ,Ann Lee , GTX Pro,BigCo,Won,2017-03-01 ,2017-03-20,\t4800"]
    text = "\r\n".join([header, *rows, *GOOD_DEALS[1:]]) + "\r\n"
    write_export(tmp_path, sales_pipeline=text,
                 sales_teams=TEAMS.replace("Kay,Mia Ray,East", "Kay,Mia Ray, east"))
    export = read_crm_export(tmp_path)
    assert_balanced(export)
    fields = [f for f, action, _ in issues(export)[2] if action == "used"]
    assert fields == ["opportunity_id", "sales_agent", "product", "engage_date",
                      "close_value"]
    assert export.pipeline["value"].iloc[0] == 4800.0
    teams = issues(export, "sales_teams.csv")
    assert teams[3] == [("regional_office", "used", "stray whitespace in ' east'"),
                        ("regional_office", "used",
                         "regional_office 'east' read as 'East'")]


def test_bad_team_product_and_account_rows(tmp_path):
    teams = TEAMS + "Ann Lee,Tom Fox,West\nDee Roe,,\nEve Poe,,West\n"
    products = PRODUCTS + "GTX Basic,,550\nMG Special,MG,55\nOdd Thing,,-1\n"
    accounts = (ACCOUNTS + "Acme,technolgy,1996,unknown,2822,United States,Ghost\n"
                ",retail,2000,10,10,Italy,\n")
    deals = [*GOOD_DEALS, "OPP5,Eve Poe,GTX Basic,Acme,Won,2017-03-01,2017-03-20,50",
             "OPP6,dee roe,GTX Pro,Acme,Won,2017-03-01,2017-03-20,50"]
    export = read_crm_export(write_export(tmp_path, deals, sales_teams=teams,
                                          products=products, accounts=accounts))
    assert_balanced(export)
    assert issues(export, "sales_teams.csv") == {
        5: [("sales_agent", "dropped", "sales_agent 'Ann Lee' already on row 2 "
             "with other values; the first is kept")],
        6: [("regional_office", "dropped", "regional_office is empty; the "
             "agent's deals would have no region")],
        7: [("manager", "used", "manager is empty; quota set from the agents of "
             "the region")],
    }
    assert issues(export)[7] == [("sales_agent", "dropped", "sales_agent 'dee roe' "
                                  "has no usable row in sales_teams.csv (see its "
                                  "row 6)")]
    got = issues(export, "products.csv")
    assert got[4] == [("series", "used", "series is empty; taken from the product "
                       "name as 'GTX'")]
    assert got[5] == [("product", "dropped", "exact duplicate of row 3")]
    assert [f for f, a, _ in got[6]] == ["series"] and got[6][0][1] == "dropped"
    got = issues(export, "accounts.csv")
    assert got[4] == [
        ("revenue", "used", "revenue 'unknown' is not a non-negative number; "
         "account size unknown"),
        ("sector", "used", "sector 'technolgy' corrected to 'technology'"),
        ("subsidiary_of", "used", "parent 'Ghost' is not in accounts.csv"),
    ]
    assert got[5] == [("account", "dropped", "account is empty; the row names no "
                       "account")]


def test_agents_without_deals_are_not_reps(tmp_path):
    teams = TEAMS + "Fay Doe,Tom Fox,West\n"
    export = read_crm_export(write_export(tmp_path, sales_teams=teams))
    assert issues(export, "sales_teams.csv") == {5: [(
        "sales_agent", "dropped", "agent has no usable opportunity in "
        "sales_pipeline.csv; not a rep in the scenario")]}
    assert list(export.teams["sales_agent"]) == ["Ann Lee", "Bob Kay", "Cyd Orr"]


def test_nothing_usable_left_names_the_commonest_reason(tmp_path):
    deals = ["OPP1,Zed,GTX Pro,BigCo,Won,2017-03-01,2017-03-20,1",
             "OPP2,Yan,GTX Pro,BigCo,Won,2017-03-01,2017-03-20,1"]
    with pytest.raises(CrmImportError) as err:
        read_crm_export(write_export(tmp_path, deals))
    assert str(err.value) == (
        "sales_pipeline.csv: none of the 2 rows is usable; 2 were dropped over "
        "'sales_agent', e.g. row 2: sales_agent 'Zed' is not in sales_teams.csv; "
        "fix those values in the export and import again")
    assert err.value.report.counts["sales_pipeline.csv"].dropped == 2


def test_teams_without_a_usable_agent_stop_the_import(tmp_path):
    write_export(tmp_path, sales_teams="sales_agent,manager,regional_office\n,,\n")
    with pytest.raises(CrmImportError) as err:
        read_crm_export(tmp_path)
    assert str(err.value).startswith("sales_teams.csv: none of the 1 rows is "
                                     "usable; 1 were dropped over 'sales_agent'")
    assert_plain(str(err.value))


def test_report_csv_lists_every_issue(tmp_path):
    export = read_crm_export(write_export(tmp_path))
    out = tmp_path / "report.csv"
    write_report_csv(export.report, out)
    with out.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert [r["row"] for r in rows] == ["4", "5"]
    assert set(rows[0]) == {"file", "row", "field", "reason", "action"}
    summary = export.report.summary().splitlines()
    assert summary[0] == ("sales_pipeline.csv: 4 rows read, 4 used (2 with a "
                          "repair or limitation), 0 dropped")


def test_semicolon_separated_file_gets_a_separator_hint(tmp_path):
    write_export(tmp_path, products=PRODUCTS.replace(",", ";"))
    with pytest.raises(CrmImportError) as err:
        read_crm_export(tmp_path)
    message = str(err.value)
    assert message.startswith("products.csv: missing columns")
    assert "separated by semicolons" in message
    assert_plain(message)
