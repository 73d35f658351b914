"""Shared by the feed parsers: typed access to decoded JSON, timestamps, files, and where we are.

A parser reads one record through a `Place` (which file, which record). Helpers raise
`RecordProblem` with a short description of what is wrong; the parser catches it and
`Place.error` turns it into a `FeedError` that names the file and record. Nothing here is
public API.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import os
import re
from pathlib import Path
from typing import NoReturn

import orjson

from fleetcare.intel.feeds.errors import FeedError, FeedWarning

log = logging.getLogger("fleetcare.intel.feeds")

JsonObject = dict[str, object]

#: A single JSON document larger than this is refused rather than read into memory.
MAX_JSON_FILE_BYTES = 512 * 1024 * 1024

_CWE = re.compile(r"CWE-[0-9]{1,7}")
_CWE_PREFIX = re.compile(r"^(CWE-[0-9]{1,7})\b")
_LONG_FRACTION = re.compile(r"(\.[0-9]{6})[0-9]+")
_UTC = dt.UTC


class RecordProblem(Exception):
    """What is wrong with the record being read; the caller adds where it is."""


class Place:
    """Where a parser is: the file (or URL), the record within it, and where warnings go.

    `record` is the record's id once it is known, before that its position (or None for a file
    that holds one record).
    """

    __slots__ = ("record", "source", "warnings")

    def __init__(self, source: str, record: str | None, warnings: list[FeedWarning] | None) -> None:
        self.source = source
        self.record = record
        self.warnings = warnings

    def warn(self, problem: str) -> None:
        warning = FeedWarning(self.source, self.record or "?", problem)
        if self.warnings is None:
            log.warning("%s", warning)
        else:
            self.warnings.append(warning)

    def error(self, problem: str) -> FeedError:
        return FeedError(problem, source=self.source, record=self.record)


def fail(problem: str) -> NoReturn:
    raise RecordProblem(problem)


_TYPE_NAMES = {
    type(None): "null",
    bool: "a boolean",
    str: "a string",
    int: "a number",
    float: "a number",
    list: "a list",
    dict: "an object",
}


def type_name(value: object) -> str:
    return _TYPE_NAMES.get(type(value), type(value).__name__)


def at(where: str, key: str) -> str:
    """The path of `key` inside `where` for messages; the record itself is where == ""."""
    return f"{where}.{key}" if where else key


def as_object(value: object, where: str) -> JsonObject:
    if not isinstance(value, dict):
        fail(f"{where or 'the record'} must be an object, not {type_name(value)}")
    return value


def objects(container: JsonObject, key: str, where: str) -> list[JsonObject]:
    """`container[key]` as a list of objects; missing or null is an empty list."""
    value = container.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        fail(f"{at(where, key)} must be a list, not {type_name(value)}")
    for index, item in enumerate(value):
        if not isinstance(item, dict):
            fail(f"{at(where, key)}[{index}] must be an object, not {type_name(item)}")
    return value


def strings(container: JsonObject, key: str, where: str) -> tuple[str, ...]:
    """`container[key]` as a tuple of strings; missing or null is empty."""
    value = container.get(key)
    if value is None:
        return ()
    if not isinstance(value, list):
        fail(f"{at(where, key)} must be a list of strings, not {type_name(value)}")
    for index, item in enumerate(value):
        if not isinstance(item, str):
            fail(f"{at(where, key)}[{index}] must be a string, not {type_name(item)}")
    return tuple(value)


def text(container: JsonObject, key: str, where: str) -> str | None:
    """`container[key]` as a string; missing or null is None."""
    value = container.get(key)
    if value is None or isinstance(value, str):
        return value
    fail(f"{at(where, key)} must be a string, not {type_name(value)}")


def required_text(container: JsonObject, key: str, where: str) -> str:
    value = container.get(key)
    if type(value) is str and value and not value.isspace():
        return value  # the common case, checked first: this runs for every field of every record
    if value is None:
        fail(f"{where or 'the record'} has no {key!r}")
    if not isinstance(value, str):
        fail(f"{at(where, key)} must be a string, not {type_name(value)}")
    if not value.strip():
        fail(f"{at(where, key)} is empty")
    return value


def flag(container: JsonObject, key: str, where: str, default: bool) -> bool:
    value = container.get(key)
    if value is None:
        return default
    if not isinstance(value, bool):
        fail(f"{at(where, key)} must be true or false, not {type_name(value)}")
    return value


def number(container: JsonObject, key: str, where: str) -> float | None:
    """`container[key]` as a finite float; missing or null is None."""
    value = container.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        fail(f"{at(where, key)} must be a number, not {type_name(value)}")
    try:
        result = float(value)
    except OverflowError:
        fail(f"{at(where, key)} is out of range")
    if not math.isfinite(result):
        fail(f"{at(where, key)} is not a finite number")
    return result


def timestamp(value: str, where: str) -> dt.datetime | None:
    """An ISO 8601 timestamp as an aware UTC datetime.

    A timestamp without an offset is UTC (NVD and CVE records write them so). Go's zero time,
    year 1, is how some OSV exporters write "not set": it reads as None.
    """
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        # Python keeps microseconds; some feeds write nanoseconds.
        trimmed = _LONG_FRACTION.sub(r"\1", value)
        try:
            parsed = dt.datetime.fromisoformat(trimmed)
        except ValueError:
            fail(f"{where} is not an ISO 8601 timestamp: {value[:60]!r}")
    if parsed.year == 1:
        return None
    try:
        if parsed.tzinfo is None:
            return parsed.replace(tzinfo=_UTC)
        return parsed.astimezone(_UTC)
    except OverflowError:
        fail(f"{where} is out of range: {value[:60]!r}")


def optional_timestamp(container: JsonObject, key: str, where: str) -> dt.datetime | None:
    value = text(container, key, where)
    if value is None or not value.strip():
        return None
    return timestamp(value, at(where, key))


def date(value: str, where: str) -> dt.date:
    """A calendar date written YYYY-MM-DD."""
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        fail(f"{where} is not a date (YYYY-MM-DD): {value[:60]!r}")


def cwe_id(value: str) -> str | None:
    """`value` if it is a CWE id such as CWE-79, else None (NVD-CWE-Other and the like)."""
    return value if _CWE.fullmatch(value) else None


def leading_cwe(value: str) -> str | None:
    """The CWE id a free-text problem type starts with ("CWE-125 Out-of-bounds Read")."""
    match = _CWE_PREFIX.match(value)
    return match.group(1) if match else None


def unique(values: list[str]) -> tuple[str, ...]:
    """`values` without repeats, in first-seen order."""
    return tuple(dict.fromkeys(values))


def load_json(data: bytes, source: str, record: str | None = None) -> object:
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise FeedError(f"malformed JSON: {exc}", source=source, record=record) from None


def read_json_file(path: Path) -> object:
    """The decoded JSON document in `path`, or a `FeedError` naming the file."""
    source = str(path)
    try:
        size = path.stat().st_size
        if size > MAX_JSON_FILE_BYTES:
            raise FeedError(
                f"file is {size} bytes, more than the {MAX_JSON_FILE_BYTES} a JSON document may be",
                source=source,
            )
        data = path.read_bytes()
    except OSError as exc:
        raise FeedError(f"cannot read file: {exc.strerror or exc}", source=source) from None
    return load_json(data, source)


def json_files(directory: Path) -> list[Path]:
    """Every `*.json` file under `directory`, in a stable order."""
    if not directory.is_dir():
        raise FeedError("not a directory", source=str(directory))
    found: list[Path] = []
    # os.walk knows file from directory without a stat per entry, unlike Path.rglob + is_file.
    for folder, _directories, names in os.walk(directory):
        found.extend(Path(folder, name) for name in names if name.endswith(".json"))
    return sorted(found)
