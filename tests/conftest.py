"""Shared fixtures: the repository root and the ``presales-sim`` command."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The repository's top folder (holds scenarios/)."""
    return ROOT


@pytest.fixture(scope="session")
def presales_sim():
    """Run the installed ``presales-sim`` command; returns CompletedProcess."""
    command = Path(sys.executable).with_name("presales-sim")
    assert command.exists(), f"{command} is missing; pip install -e . first"

    def run(*args, cwd: Path | None = None) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(command), *map(str, args)],
            capture_output=True,
            text=True,
            cwd=cwd or ROOT,
            timeout=300,
        )

    return run
