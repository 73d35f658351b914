"""A page's filters read from its query string, and written back into its links.

    values, problems = read_params(request.query_params, READERS)   # READERS: name -> (label, read)
    f"/devices?{query_string(query, page=2)}"                      # keeps the other filters

A page must not fail on a hand-edited address: a value its reader refuses (`ValueError`) is
dropped, and `problems` names it with the filter form's label. Used by the findings filters
(`finding_filters.FindingQuery`) and the device registry (`updates.DeviceQuery`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import fields, replace
from typing import Any
from urllib.parse import urlencode

#: Query parameter -> (the filter form's label for it, how to read it).
Readers = Mapping[str, tuple[str, Callable[[str], object]]]


def read_params(params: Mapping[str, str], readers: Readers) -> tuple[dict[str, Any], list[str]]:
    """The readable values in `params`, and one message per value that could not be read."""
    problems: list[str] = []
    values: dict[str, Any] = {}
    for name, (label, read) in readers.items():
        raw = str(params.get(name, "")).strip()[:200]
        if not raw:
            continue
        try:
            values[name] = read(raw)
        except ValueError as exc:
            problems.append(f"{label}: “{raw[:40]}” {exc}")
    return values, problems


def page_number(value: str) -> int:
    """A page number; anything unreadable is the first page."""
    return max(1, int(value)) if value.isascii() and value.isdigit() and len(value) < 7 else 1


def query_string(query: Any, **changes: Any) -> str:
    """A filters dataclass (with `changes`) as a query string, leaving out what is not set or
    is the default (page 1, for one)."""
    query = replace(query, **changes)
    pairs: list[tuple[str, str]] = []
    for field in fields(query):
        value = getattr(query, field.name)
        if value is None or value == field.default:
            continue
        if isinstance(value, bool):
            value = "true" if value else "false"
        elif isinstance(value, float):
            value = f"{value:g}"
        pairs.append((field.name, str(value)))
    return urlencode(pairs)
