"""The scenario reference is generated from the schema and committed."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field

from models.cli import main
from models.scenario import Scenario
from models.scenario_reference import (
    REGENERATE,
    reference_markdown,
    sections,
    type_text,
)

ROOT = Path(__file__).resolve().parents[1]
COMMITTED = ROOT / "docs" / "scenario_reference.md"


def test_committed_reference_is_current():
    assert COMMITTED.exists(), f"run `{REGENERATE}` to generate it"
    assert COMMITTED.read_text(encoding="utf-8") == reference_markdown(), (
        f"docs/scenario_reference.md is stale: run `{REGENERATE}` to regenerate"
    )


def test_every_field_of_every_table_is_listed():
    text = reference_markdown()
    parts = text.split("\n## ")
    for section in sections(Scenario):
        heading = f"`{section.title}`" if section.path else "Top level"
        body = next(p for p in parts if p.startswith(heading + "\n"))
        rows = [line for line in body.splitlines() if line.startswith("| `")]
        names = [row.split("`")[1] for row in rows]
        assert names == list(section.model.model_fields), section.title


def test_defaults_and_constraints_are_shown():
    text = reference_markdown()
    assert "| `horizon_days` | integer in [1, 3660] | `90` |" in text
    assert "| `incentive` | number in [0, 1] | `0.5` |" in text
    assert "| `regions` | list of strings, at least 1 item | *required* |" in text


def test_type_text():
    assert type_text(Annotated[float, Field(gt=0.0)]) == "number > 0"
    assert type_text(float | None) == "number, or none"
    assert type_text(Literal["a", "b"]) == 'one of `"a"`, `"b"`'
    assert type_text(dict[str, int]) == "table of string → integer"
    assert type_text(list[tuple[float, float]]) == "list of [number, number]"


def test_check_flag_reports_a_stale_file(tmp_path, capsys):
    out = tmp_path / "reference.md"
    assert main(["reference", "--out", str(out)]) == 0
    assert main(["reference", "--out", str(out), "--check"]) == 0
    out.write_text("old\n")
    assert main(["reference", "--out", str(out), "--check"]) == 1
    assert REGENERATE in capsys.readouterr().out
