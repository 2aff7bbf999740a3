"""Build the notebooks in this folder from their text sources in ``src/``.

Each source ``src/NN_name.md`` is a notebook written as plain text, so that a
review reads it like a document and a diff shows what changed:

* text outside code fences becomes markdown cells; a line holding only
  ``+++`` ends one markdown cell and starts the next;
* every fenced block opened by a line of three backticks and ``python``
  becomes one code cell; words after ``python`` of the form ``tags=a,b``
  become the cell's tags (``parameters`` marks the cell a user edits to run
  bigger, ``figure`` a cell that must show a figure).

The notebooks are written without outputs, with stable cell ids, so that
building twice gives the same bytes. Usage::

    python notebooks/build.py          # write every NN_name.ipynb
    python notebooks/build.py --check  # exit 1 if a notebook is out of date
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).resolve().parent
SOURCES = HERE / "src"
FENCE = "`" * 3
OPEN_CODE = re.compile(r"^" + FENCE + r"python(?:\s+tags=(?P<tags>[\w,-]+))?\s*$")
CELL_BREAK = "+++"
KERNEL = {"display_name": "Python 3 (ipykernel)", "language": "python",
          "name": "python3"}


def _markdown(lines: list[str], cells: list, stem: str) -> None:
    """Add the markdown cell of ``lines`` unless they are blank."""
    text = "\n".join(lines).strip("\n")
    if text.strip():
        cells.append(new_markdown_cell(text, id=f"{stem}-{len(cells):02d}"))


def parse_source(text: str, stem: str) -> list:
    """Return the cells of one notebook source (see the module notes).

    Args:
        text: The source text.
        stem: The notebook's file stem, used for cell ids.

    Returns:
        nbformat cells in order.

    Raises:
        ValueError: If a code fence is left open.
    """
    cells: list = []
    pending: list[str] = []
    code: list[str] | None = None
    tags: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if code is not None:
            if line.strip() == FENCE:
                cell = new_code_cell("\n".join(code), id=f"{stem}-{len(cells):02d}")
                if tags:
                    cell.metadata["tags"] = tags
                cells.append(cell)
                code = None
            else:
                code.append(line)
            continue
        opened = OPEN_CODE.match(line)
        if opened:
            _markdown(pending, cells, stem)
            pending, code = [], []
            tags = opened["tags"].split(",") if opened["tags"] else []
            start = number
        elif line.strip() == CELL_BREAK:
            _markdown(pending, cells, stem)
            pending = []
        else:
            pending.append(line)
    if code is not None:
        raise ValueError(f"{stem}: code fence opened on line {start} is not closed")
    _markdown(pending, cells, stem)
    return cells


def build_notebook(source: Path) -> nbformat.NotebookNode:
    """Return the notebook built from one source file."""
    notebook = new_notebook(cells=parse_source(source.read_text("utf-8"), source.stem))
    notebook.metadata["kernelspec"] = dict(KERNEL)
    notebook.metadata["language_info"] = {"name": "python"}
    return notebook


def render(notebook: nbformat.NotebookNode) -> str:
    """The notebook as the JSON text written to disk."""
    nbformat.validate(notebook)
    return nbformat.writes(notebook) + "\n"


def targets() -> dict[Path, Path]:
    """Each source and the notebook built from it."""
    return {src: HERE / f"{src.stem}.ipynb" for src in sorted(SOURCES.glob("*.md"))}


def stale() -> list[Path]:
    """Notebooks missing or different from what their sources build."""
    return [
        out
        for src, out in targets().items()
        if not out.exists() or out.read_text("utf-8") != render(build_notebook(src))
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--check", action="store_true", help="only report notebooks out of date"
    )
    args = parser.parse_args(argv)
    if args.check:
        out_of_date = stale()
        for path in out_of_date:
            print(f"{path.name} is out of date; run python notebooks/build.py")
        return 1 if out_of_date else 0
    for src, out in targets().items():
        out.write_text(render(build_notebook(src)), encoding="utf-8")
        print(f"wrote {out.relative_to(HERE.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
