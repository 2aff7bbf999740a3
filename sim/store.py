"""On-disk store of finished replications, one small Parquet file each.

Layout under ``root``::

    <scenario_hash>/<variant slug>/rep-000042.parquet

Each file holds one row: ``scenario_hash``, ``variant``, ``replication`` and
the outcomes as float columns. A file is written to a temporary name in the
same directory, flushed and fsynced, then moved into place with
``os.replace``, so a reader (or a resumed run) sees either no file or a
complete one, even after a crash or ``kill -9``. Temporary files start with
``.tmp-`` and are ignored by every reader; :meth:`ResultStore.clean_temp`
removes stale ones. A key maps to exactly one path, so results are never
duplicated: writing a key again replaces its file.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import time
import urllib.parse
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import NamedTuple

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

__all__ = ["ResultKey", "ResultStore"]

logger = logging.getLogger(__name__)
logger.addHandler(logging.NullHandler())

_TEMP_PREFIX = ".tmp-"
_SUFFIX = ".parquet"
_META = ("scenario_hash", "variant", "replication")


class ResultKey(NamedTuple):
    """Identity of one replication's result.

    Attributes:
        scenario_hash: Content hash of everything that determines the result
            besides the replication index.
        variant: Variant name.
        replication: Replication index, from 0.
    """

    scenario_hash: str
    variant: str
    replication: int


def _variant_slug(variant: str) -> str:
    readable = urllib.parse.quote(variant, safe="=,.-_+")[:80]
    digest = hashlib.sha256(variant.encode("utf-8")).hexdigest()[:12]
    return f"{readable}~{digest}"


def _check_hash(scenario_hash: str) -> str:
    if not scenario_hash or not all(ch.isalnum() for ch in scenario_hash):
        raise ValueError(f"scenario hash must be alphanumeric, got {scenario_hash!r}")
    return scenario_hash


def _row_table(key: ResultKey, outcomes: Mapping[str, float]) -> pa.Table:
    columns: dict[str, pa.Array] = {
        "scenario_hash": pa.array([key.scenario_hash], pa.string()),
        "variant": pa.array([key.variant], pa.string()),
        "replication": pa.array([int(key.replication)], pa.int64()),
    }
    for name, value in outcomes.items():
        if name in _META:
            raise ValueError(f"outcome name {name!r} clashes with a key column")
        try:
            columns[str(name)] = pa.array([float(value)], pa.float64())
        except (TypeError, ValueError) as exc:
            raise TypeError(f"outcome {name!r} is not a number: {value!r}") from exc
    return pa.table(columns)


class ResultStore:
    """A directory of finished replications, safe to resume after a kill.

    Args:
        root: Directory to keep results in (created if missing).
    """

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)

    def __repr__(self) -> str:
        return f"ResultStore({str(self.root)!r})"

    def path(self, key: ResultKey) -> Path:
        """Return the file path of a key (whether or not it exists)."""
        folder = self.root / _check_hash(key.scenario_hash) / _variant_slug(key.variant)
        return folder / f"rep-{int(key.replication):06d}{_SUFFIX}"

    def has(self, key: ResultKey) -> bool:
        """Return whether the result for ``key`` is stored."""
        return self.path(key).is_file()

    def write(self, key: ResultKey, outcomes: Mapping[str, float]) -> Path:
        """Store one replication's outcomes atomically.

        Args:
            key: The result's identity.
            outcomes: Outcome name to number.

        Returns:
            The final file path.

        Raises:
            TypeError: If an outcome is not a number.
            ValueError: If an outcome name clashes with a key column.
        """
        table = _row_table(key, outcomes)
        target = self.path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        handle = tempfile.NamedTemporaryFile(
            dir=target.parent, prefix=_TEMP_PREFIX, suffix=_SUFFIX, delete=False
        )
        try:
            with handle:
                pq.write_table(table, handle)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(handle.name, target)
        except BaseException:
            Path(handle.name).unlink(missing_ok=True)
            raise
        _fsync_dir(target.parent)
        return target

    def _files(self, scenario_hashes: Iterable[str] | None) -> Iterator[Path]:
        if scenario_hashes is None:
            folders = sorted(p for p in self.root.iterdir() if p.is_dir())
        else:
            folders = [self.root / _check_hash(h) for h in scenario_hashes]
        for folder in folders:
            yield from sorted(folder.glob(f"*/rep-*{_SUFFIX}"))

    def read(self, key: ResultKey) -> dict[str, float]:
        """Return the stored outcomes of one key.

        Raises:
            KeyError: If the key is not stored.
        """
        path = self.path(key)
        if not path.is_file():
            raise KeyError(key)
        row = pq.read_table(path).to_pylist()[0]
        return {k: v for k, v in row.items() if k not in _META}

    def keys(self, scenario_hashes: Iterable[str] | None = None) -> set[ResultKey]:
        """Return the stored keys, optionally only for some scenario hashes."""
        frame = self.load_all(scenario_hashes)
        return {ResultKey(h, v, int(r)) for h, v, r in
                zip(frame["scenario_hash"], frame["variant"], frame["replication"],
                    strict=True)}

    def load_all(self, scenario_hashes: Iterable[str] | None = None) -> pd.DataFrame:
        """Load stored results as a tidy table.

        Args:
            scenario_hashes: Only these scenarios (default: all).

        Returns:
            One row per stored replication with ``scenario_hash``, ``variant``,
            ``replication`` and outcome columns, sorted by the key columns.
            Temporary files are ignored.
        """
        tables = [pq.read_table(path) for path in self._files(scenario_hashes)]
        if not tables:
            return pd.DataFrame({"scenario_hash": pd.Series(dtype=str),
                                 "variant": pd.Series(dtype=str),
                                 "replication": pd.Series(dtype="int64")})
        frame = pa.concat_tables(tables, promote_options="default").to_pandas()
        frame = frame.sort_values(list(_META), kind="stable").reset_index(drop=True)
        return frame

    def clean_temp(self, min_age_seconds: float = 3600.0) -> int:
        """Delete temporary files left by interrupted writes.

        Args:
            min_age_seconds: Only delete files at least this old, so that a
                write in progress in another process is left alone.

        Returns:
            How many files were deleted.
        """
        cutoff = time.time() - min_age_seconds
        removed = 0
        for path in self.root.glob(f"*/*/{_TEMP_PREFIX}*"):
            try:
                if path.stat().st_mtime <= cutoff:
                    path.unlink()
                    removed += 1
            except FileNotFoundError:
                continue
        if removed:
            logger.info("removed %d stale temporary files under %s", removed, self.root)
        return removed


def _fsync_dir(folder: Path) -> None:
    """Persist a directory entry (no-op where directories cannot be opened)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
