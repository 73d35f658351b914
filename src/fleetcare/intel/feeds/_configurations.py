"""NVD-style CPE configurations, shared by the NVD parser and CVE 5 `cpeApplicability`."""

from __future__ import annotations

from typing import Literal

from fleetcare.intel.feeds._reading import JsonObject, fail, flag, objects, required_text, text
from fleetcare.intel.records import CpeConfiguration, CpeMatch, CpeNode

_OPERATORS: dict[str, Literal["OR", "AND"]] = {"OR": "OR", "AND": "AND"}
_BOUNDS = (
    "versionStartIncluding",
    "versionStartExcluding",
    "versionEndIncluding",
    "versionEndExcluding",
)


def configuration(raw: JsonObject, where: str) -> CpeConfiguration:
    return CpeConfiguration(
        nodes=tuple(
            _node(node, f"{where}.nodes[{index}]")
            for index, node in enumerate(objects(raw, "nodes", where))
        ),
        operator=_operator(raw, where),
        negate=flag(raw, "negate", where, False),
    )


def _node(raw: JsonObject, where: str) -> CpeNode:
    return CpeNode(
        operator=_operator(raw, where),
        matches=tuple(
            _match(match, f"{where}.cpeMatch[{index}]")
            for index, match in enumerate(objects(raw, "cpeMatch", where))
        ),
        negate=flag(raw, "negate", where, False),
    )


def _operator(raw: JsonObject, where: str) -> Literal["OR", "AND"]:
    value = text(raw, "operator", where)
    if value is None:
        return "OR"
    operator = _OPERATORS.get(value)
    if operator is None:
        fail(f"{where}.operator must be OR or AND, not {value[:20]!r}")
    return operator


def _match(raw: JsonObject, where: str) -> CpeMatch:
    criteria = required_text(raw, "criteria", where)
    if not criteria.startswith("cpe:2.3:"):
        fail(f"{where}.criteria is not a CPE 2.3 name: {criteria[:60]!r}")
    bounds = [text(raw, key, where) or None for key in _BOUNDS]
    return CpeMatch(
        criteria,
        flag(raw, "vulnerable", where, True),
        bounds[0],
        bounds[1],
        bounds[2],
        bounds[3],
    )
