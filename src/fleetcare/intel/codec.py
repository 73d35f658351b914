"""Records to JSON and back, so the store can keep what each source said exactly as parsed.

    data = encode(record)                       # plain JSON-ready dict
    record = decode(VulnerabilityRecord, data)  # the same frozen record again

Generic over the frozen dataclasses of `records.py` (driven by their type hints), so a field
added there needs no change here. Dates and datetimes travel as ISO 8601 strings.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import types
import typing
from functools import cache
from typing import Any, TypeVar, Union, get_args, get_origin

import orjson

from fleetcare.intel import records

T = TypeVar("T")


def encode(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, tuple | list):
        return [encode(v) for v in value]
    if isinstance(value, dict | types.MappingProxyType):
        return {str(k): encode(v) for k, v in value.items()}
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value


def content_hash(value: Any) -> str:
    """A stable hash of a record's content: equal records hash equally across runs."""
    return hashlib.sha256(orjson.dumps(encode(value), option=orjson.OPT_SORT_KEYS)).hexdigest()


@cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls, vars(records))


def decode(cls: type[T], data: dict[str, Any]) -> T:
    hints = _hints(cls)  # type: ignore[arg-type]
    kwargs = {}
    for field in dataclasses.fields(cls):  # type: ignore[arg-type]
        if field.name in data:
            kwargs[field.name] = _decode_value(hints[field.name], data[field.name])
    return cls(**kwargs)


def _decode_value(hint: Any, value: Any) -> Any:  # noqa: PLR0911 - one return per type
    if value is None:
        return None
    origin = get_origin(hint)
    if origin in (Union, types.UnionType):
        options = [a for a in get_args(hint) if a is not type(None)]
        return _decode_value(options[0], value) if len(options) == 1 else value
    if origin is tuple:
        inner = get_args(hint)[0]
        return tuple(_decode_value(inner, v) for v in value)
    if origin is dict:
        return dict(value)
    if origin is typing.Literal:
        return value
    if hint is dt.datetime:
        return dt.datetime.fromisoformat(value)
    if hint is dt.date:
        return dt.date.fromisoformat(value)
    if dataclasses.is_dataclass(hint):
        return decode(hint, value)  # type: ignore[arg-type]
    return value
