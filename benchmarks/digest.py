"""Fixed-seed fingerprints of a run's outputs, to check optimisations.

``python -m benchmarks.digest SCENARIO [--days N]`` prints one SHA-256 per
output table and one of the key outcomes; two runs give the same lines if and
only if their outputs are identical.
"""

from __future__ import annotations

import argparse
import hashlib
import json

from models.runner import run_scenario
from models.scenario import load_scenario


def digests(path: str, days: int | None = None, seed: int | None = None) -> dict:
    """SHA-256 of every output table (as CSV) and of the key outcomes.

    Args:
        path: Scenario file.
        days: Horizon override (None keeps the file's).
        seed: Seed override (None keeps the file's).

    Returns:
        Table name (and ``"summary"``) to hex digest.
    """
    scenario = load_scenario(path)
    if days is not None:
        scenario.scenario.horizon_days = days
    result = run_scenario(scenario, seed)
    out = {}
    for name, frame in sorted(result.tables.items()):
        text = frame.to_csv(index=False)
        out[name] = hashlib.sha256(text.encode()).hexdigest()[:16]
    summary = json.dumps(result.outcomes, sort_keys=True)
    out["summary"] = hashlib.sha256(summary.encode()).hexdigest()[:16]
    return out


def main(argv: list[str] | None = None) -> None:
    """Print the digests of one scenario run."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("scenario")
    parser.add_argument("--days", type=int, default=None)
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args(argv)
    for name, digest in digests(args.scenario, args.days, args.seed).items():
        print(f"{name:14s} {digest}")


if __name__ == "__main__":
    main()
