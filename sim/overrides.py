"""Dotted-path overrides of nested configuration dicts, and content hashes.

A path names one value in a config parsed from TOML: table keys are joined by
dots and list items are addressed by ``[index]``, e.g. ``"grab.incentive"`` or
``"engineers.pools[0].count"``. Negative indices count from the end. Keys that
themselves contain ``.``, ``[`` or ``]`` cannot be addressed.

Overrides never change the config they are given: :func:`apply_overrides`
works on a deep copy. By default a path must already exist, so that a typo
fails loudly with :class:`OverrideError`, naming the path and what exists.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import json
import re
import tomllib
from collections.abc import Mapping
from pathlib import PurePath
from typing import Any

import numpy as np

__all__ = [
    "OverrideError",
    "apply_overrides",
    "content_hash",
    "format_value",
    "get_path",
    "parse_assignment",
    "parse_path",
]

_SEGMENT = re.compile(r"^([^.\[\]]+)((?:\[-?\d+\])*)$")
_INDEX = re.compile(r"\[(-?\d+)\]")


class OverrideError(KeyError, ValueError):
    """A path that does not fit the config; catchable as KeyError or ValueError.

    Attributes:
        path: The full dotted path that failed.
    """

    def __init__(self, path: str, message: str) -> None:
        super().__init__(message)
        self.path = path
        self.message = message

    def __str__(self) -> str:
        return self.message


def parse_path(path: str) -> list[str | int]:
    """Split a dotted path into keys (str) and list indices (int).

    Args:
        path: E.g. ``"engineers.pools[0].count"``.

    Returns:
        E.g. ``["engineers", "pools", 0, "count"]``.

    Raises:
        OverrideError: If the path is empty or malformed.
    """
    if not isinstance(path, str) or not path:
        raise OverrideError(str(path), f"override path must be a non-empty string, "
                            f"got {path!r}")
    steps: list[str | int] = []
    for segment in path.split("."):
        match = _SEGMENT.match(segment.strip())
        if match is None:
            raise OverrideError(path, f"malformed override path {path!r}: bad "
                                f"segment {segment!r} (use a.b[0].c)")
        steps.append(match.group(1).strip())
        steps.extend(int(i) for i in _INDEX.findall(match.group(2)))
    return steps


def _render(steps: list[str | int]) -> str:
    text = ""
    for step in steps:
        if isinstance(step, int):
            text += f"[{step}]"
        else:
            text += f".{step}" if text else step
    return text or "<root>"


def _describe(node: Any) -> str:
    if isinstance(node, Mapping):
        keys = ", ".join(sorted(map(str, node))) or "nothing"
        return f"a table with keys: {keys}"
    if isinstance(node, list):
        return f"a list of length {len(node)}"
    return f"a {type(node).__name__} ({node!r})"


def _step_into(node: Any, step: str | int, path: str, done: list, create: bool):
    where = _render(done)
    if isinstance(step, int):
        if not isinstance(node, list):
            raise OverrideError(path, f"override {path!r}: {where} is "
                                f"{_describe(node)}, not a list")
        if not -len(node) <= step < len(node):
            raise OverrideError(path, f"override {path!r}: index {step} out of "
                                f"range, {where} is {_describe(node)}")
        return node[step]
    if not isinstance(node, dict):
        raise OverrideError(path, f"override {path!r}: {where} is "
                            f"{_describe(node)}, not a table")
    if step not in node:
        if not create:
            raise OverrideError(path, f"override {path!r}: no key {step!r} in "
                                f"{where}, which is {_describe(node)}")
        node[step] = {}
    return node[step]


def get_path(config: Mapping[str, Any], path: str) -> Any:
    """Return the value at ``path`` in ``config``.

    Args:
        config: A nested dict (lists allowed inside).
        path: A dotted path.

    Returns:
        The value found (not a copy).

    Raises:
        OverrideError: If the path does not exist.
    """
    node: Any = config
    steps = parse_path(path)
    for i, step in enumerate(steps):
        node = _step_into(node, step, path, steps[:i], create=False)
    return node


def _set_path(config: dict, path: str, value: Any, allow_new: bool) -> None:
    steps = parse_path(path)
    node: Any = config
    for i, step in enumerate(steps[:-1]):
        node = _step_into(node, step, path, steps[:i], create=allow_new)
    last = steps[-1]
    if isinstance(last, str) and isinstance(node, dict) and last not in node:
        if not allow_new:
            raise OverrideError(path, f"override {path!r}: no key {last!r} in "
                                f"{_render(steps[:-1])}, which is {_describe(node)}")
        node[last] = copy.deepcopy(value)
        return
    _step_into(node, last, path, steps[:-1], create=False)
    node[last] = copy.deepcopy(value)


def apply_overrides(
    config: Mapping[str, Any],
    overrides: Mapping[str, Any] | None,
    *,
    allow_new: bool = False,
) -> dict[str, Any]:
    """Return a deep copy of ``config`` with dotted-path overrides applied.

    Overrides are applied in order, so a later path may refine an earlier one.

    Args:
        config: The base config (left unchanged).
        overrides: Mapping of dotted path to new value, e.g.
            ``{"grab.incentive": 0.5, "engineers.pools[0].count": 12}``.
        allow_new: If true, missing table keys (and missing intermediate
            tables) are created instead of raising. List indices must always
            exist.

    Returns:
        The new config.

    Raises:
        OverrideError: If a path is malformed or (unless ``allow_new``) does not
            exist; the message names the path and what exists there.
    """
    result = copy.deepcopy(dict(config))
    for path, value in (overrides or {}).items():
        _set_path(result, path, value, allow_new)
    return result


def parse_assignment(text: str) -> tuple[str, Any]:
    """Parse ``"path=value"`` as given on a command line.

    The value is read as a TOML value (``0.5``, ``12``, ``true``, ``"x"``,
    ``[1, 2]``); if that fails it is taken as a bare string, so
    ``policy.name=hybrid`` gives ``("policy.name", "hybrid")``.

    Args:
        text: The assignment.

    Returns:
        ``(path, value)``.

    Raises:
        OverrideError: If there is no ``=`` or the path is malformed.
    """
    path, sep, raw = text.partition("=")
    path = path.strip()
    if not sep:
        raise OverrideError(path, f"override {text!r} must look like path=value")
    parse_path(path)
    raw = raw.strip()
    try:
        value = tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw
    return path, value


def format_value(value: Any) -> str:
    """Format a value for a variant name: strings bare, others as JSON.

    Args:
        value: An override value.

    Returns:
        E.g. ``"hybrid"``, ``"0.5"``, ``"12"``, ``"true"``.
    """
    if isinstance(value, str):
        return value
    return json.dumps(_canonical(value), sort_keys=True, separators=(",", ":"))


def _canonical(value: Any) -> Any:
    """Turn a config value into plain JSON data, deterministically."""
    if isinstance(value, Mapping):
        return {str(k): _canonical(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_canonical(v) for v in value]
    if isinstance(value, set | frozenset):
        return sorted((_canonical(v) for v in value), key=repr)
    if isinstance(value, np.ndarray):
        return [_canonical(v) for v in value.tolist()]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, dt.date | dt.time):
        return {"__" + type(value).__name__: value.isoformat()}
    if isinstance(value, PurePath):
        return str(value)
    if value is None or isinstance(value, bool | int | float | str):
        return value
    raise TypeError(f"cannot hash config value of type {type(value).__name__}")


def content_hash(config: Any) -> str:
    """Return a stable SHA-256 hex digest of a config's content.

    The config is written as canonical JSON (sorted keys, no spaces, dates as
    ISO strings, NumPy scalars as Python numbers), so the digest is the same
    across processes, machines and ``PYTHONHASHSEED`` values. Note that
    ``1`` and ``1.0`` hash differently, as do ``true`` and ``1``.

    Args:
        config: A nested dict of plain values.

    Returns:
        64 hexadecimal characters.

    Raises:
        TypeError: If the config holds a value with no canonical form.
    """
    text = json.dumps(
        _canonical(config), sort_keys=True, separators=(",", ":"), ensure_ascii=True
    )
    return hashlib.sha256(text.encode("ascii")).hexdigest()
