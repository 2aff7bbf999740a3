"""Tests of sim.store: atomic one-file-per-replication result storage."""

import math
import os
import time

import pytest

from sim.store import ResultKey, ResultStore

HASH = "ab12" * 16


def test_write_has_read_and_load(tmp_path):
    store = ResultStore(tmp_path / "results")
    key = ResultKey(HASH, "baseline", 3)
    assert not store.has(key)
    path = store.write(key, {"y": 1.5, "count": 4})
    assert path.exists() and path.suffix == ".parquet"
    assert store.has(key)
    assert store.read(key) == {"y": 1.5, "count": 4.0}
    store.write(ResultKey(HASH, "baseline", 0), {"y": 0.5, "count": 1})
    frame = store.load_all()
    assert list(frame.columns) == ["scenario_hash", "variant", "replication", "y",
                                   "count"]
    assert frame["replication"].tolist() == [0, 3]
    assert str(frame["replication"].dtype) == "int64"


def test_rewrite_never_duplicates(tmp_path):
    store = ResultStore(tmp_path)
    key = ResultKey(HASH, "v", 0)
    store.write(key, {"y": 1.0})
    store.write(key, {"y": 2.0})
    frame = store.load_all()
    assert len(frame) == 1 and frame["y"].iloc[0] == 2.0
    assert store.keys() == {key}


def test_awkward_variant_names(tmp_path):
    store = ResultStore(tmp_path)
    names = ["a/b", "grab.incentive=0.5,policy.name=hybrid", "x" * 400, "é ü"]
    for i, name in enumerate(names):
        store.write(ResultKey(HASH, name, i), {"y": float(i)})
    frame = store.load_all()
    assert sorted(frame["variant"]) == sorted(names)
    assert all(store.has(ResultKey(HASH, n, i)) for i, n in enumerate(names))


def test_filters_by_scenario_hash_and_promotes_missing_outcomes(tmp_path):
    store = ResultStore(tmp_path)
    other = "cd34" * 16
    store.write(ResultKey(HASH, "v", 0), {"y": 1.0})
    store.write(ResultKey(HASH, "v", 1), {"y": 2.0, "z": 5.0})
    store.write(ResultKey(other, "v", 0), {"y": 9.0})
    frame = store.load_all([HASH])
    assert len(frame) == 2
    assert math.isnan(frame["z"].iloc[0]) and frame["z"].iloc[1] == 5.0
    assert len(store.load_all()) == 3
    assert store.load_all(["ffff"]).empty


def test_stray_temp_files_are_ignored_and_cleaned(tmp_path):
    store = ResultStore(tmp_path)
    key = ResultKey(HASH, "v", 0)
    store.write(key, {"y": 1.0})
    stray = store.path(key).parent / ".tmp-crashed.parquet"
    stray.write_bytes(b"half a parquet file")
    assert len(store.load_all()) == 1
    assert store.clean_temp() == 0  # too young: may be a write in progress
    old = time.time() - 7200
    os.utime(stray, (old, old))
    assert store.clean_temp() == 1
    assert not stray.exists()
    assert store.has(key)


def test_bad_outcomes_leave_nothing_behind(tmp_path):
    store = ResultStore(tmp_path)
    key = ResultKey(HASH, "v", 0)
    with pytest.raises(TypeError, match="'label'"):
        store.write(key, {"y": 1.0, "label": "high"})
    with pytest.raises(ValueError, match="clashes"):
        store.write(key, {"variant": 1.0})
    with pytest.raises(ValueError):
        store.write(ResultKey("../up", "v", 0), {"y": 1.0})
    assert not store.has(key)
    assert not list(tmp_path.rglob("*.parquet"))
    with pytest.raises(KeyError):
        store.read(key)
