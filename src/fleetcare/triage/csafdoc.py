"""Pieces of CSAF 2.0 documents shared by the VEX export and the advisories, and validation.

    tree = product_tree(vendor, releases, components)     # branches vendor > product > version
    problems = validate(document)                          # schema + mandatory tests 6.1.x

Validation goes through the `csaf` package (the OASIS CSAF 2.0 JSON schema it bundles and its
implementation of every mandatory test 6.1.1-6.1.33), offline. Each problem carries the test
number and the JSON path (a JSON pointer) of what failed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import csaf
from csaf.csaf.v20._validator import validate as _csaf_validate

CSAF_CVE = re.compile(r"^CVE-[0-9]{4}-[0-9]{4,}$")


@dataclass(frozen=True)
class ReleaseRef:
    """A firmware release as a CSAF product."""

    product_slug: str
    product_name: str
    version: str
    model_id: str = ""

    @property
    def product_id(self) -> str:
        return f"{self.product_slug}-{self.version}"

    @property
    def full_name(self) -> str:
        return f"{self.product_name} {self.version}"

    def purl(self) -> str:
        return f"pkg:generic/{self.product_slug}@{_purl_escape(self.version)}"

    def cpe(self, vendor: str) -> str:
        return (
            f"cpe:2.3:o:{_cpe_part(vendor)}:{_cpe_part(self.product_slug)}_firmware:"
            f"{_cpe_part(self.version)}:*:*:*:*:*:*:*"
        )


@dataclass(frozen=True)
class ComponentRef:
    """A component inside a release (a CSAF relationship `default_component_of`)."""

    release: ReleaseRef
    name: str
    version: str
    purl: str = ""
    cpe: str = ""

    @property
    def component_id(self) -> str:
        return f"component:{self.name}@{self.version}"

    @property
    def product_id(self) -> str:
        return f"{self.component_id}:{self.release.product_id}"


def _purl_escape(value: str) -> str:
    return re.sub(r"[^A-Za-z0-9.\-_~]", lambda m: f"%{ord(m.group()):02X}", value)


def _cpe_part(value: str) -> str:
    # CPE 2.3 formatted strings take letters, digits, "-", "." and "_" unquoted.
    cleaned = re.sub(r"[^a-z0-9._\-]+", "_", value.lower()).strip("_")
    return cleaned or "-"


def product_tree(
    vendor: str, releases: Iterable[ReleaseRef], components: Iterable[ComponentRef] = ()
) -> dict[str, Any]:
    """Vendor > product name > product version branches, the components as full product names
    and a `default_component_of` relationship for each component in each release."""
    by_product: dict[str, list[ReleaseRef]] = {}
    for release in releases:
        group = by_product.setdefault(release.product_name, [])
        if release not in group:
            group.append(release)
    product_branches = []
    for name in sorted(by_product):
        versions = []
        for release in by_product[name]:
            helper: dict[str, Any] = {"cpe": release.cpe(vendor), "purl": release.purl()}
            if release.model_id:
                helper["model_numbers"] = [release.model_id]
            versions.append(
                {
                    "category": "product_version",
                    "name": release.version,
                    "product": {
                        "name": release.full_name,
                        "product_id": release.product_id,
                        "product_identification_helper": helper,
                    },
                }
            )
        product_branches.append({"category": "product_name", "name": name, "branches": versions})
    tree: dict[str, Any] = {
        "branches": [{"category": "vendor", "name": vendor, "branches": product_branches}]
    }
    unique: dict[str, ComponentRef] = {}
    relationships: dict[str, dict[str, Any]] = {}
    for component in components:
        unique.setdefault(component.component_id, component)
        relationships[component.product_id] = {
            "category": "default_component_of",
            "full_product_name": {
                "name": f"{component.name} {component.version} in {component.release.full_name}",
                "product_id": component.product_id,
            },
            "product_reference": component.component_id,
            "relates_to_product_reference": component.release.product_id,
        }
    if unique:
        names = []
        for component in unique.values():
            entry: dict[str, Any] = {
                "name": f"{component.name} {component.version}".strip(),
                "product_id": component.component_id,
            }
            # An SBOM's odd identifier must not make the whole document invalid: only those
            # the CSAF schema (and, for purls, 6.1.13) accepts are passed on.
            helper = {}
            if _usable("purl", component.purl):
                helper["purl"] = component.purl
            if _usable("cpe", component.cpe):
                helper["cpe"] = component.cpe
            if helper:
                entry["product_identification_helper"] = helper
            names.append(entry)
        tree["full_product_names"] = names
        tree["relationships"] = list(relationships.values())
    return tree


@cache
def _helper_patterns() -> dict[str, re.Pattern[str]]:
    schema_path = Path(csaf.__file__).parent / "csaf" / "v20" / "schema" / "csaf.json"
    schema = json.loads(schema_path.read_text(encoding="utf-8"))
    helper = schema["$defs"]["full_product_name_t"]["properties"]["product_identification_helper"]
    return {k: re.compile(helper["properties"][k]["pattern"]) for k in ("purl", "cpe")}


def _usable(kind: str, value: str) -> bool:
    if not value or not _helper_patterns()[kind].match(value):
        return False
    if kind == "purl":
        from packageurl import PackageURL

        try:
            PackageURL.from_string(value)
        except ValueError:
            return False
    return True


def vulnerability_ids(vulnerability_id: str, aliases: Iterable[str]) -> dict[str, Any]:
    """`cve` when the id (or an alias) is a CVE, the others under `ids`."""
    every = [vulnerability_id, *[a for a in aliases if a != vulnerability_id]]
    cve = next((i for i in every if CSAF_CVE.match(i)), None)
    out: dict[str, Any] = {}
    if cve:
        out["cve"] = cve
    others = [i for i in every if i != cve]
    if others:
        out["ids"] = [{"system_name": _system_of(i), "text": i} for i in others[:20]]
    return out


def _system_of(identifier: str) -> str:
    prefix = identifier.split("-", 1)[0]
    return {"GHSA": "GitHub Security Advisory", "EUVD": "EUVD", "OSV": "OSV"}.get(prefix, prefix)


def cvss_v3(vector: str | None, product_ids: list[str]) -> dict[str, Any]:
    """A `scores` entry for a CVSS 3.x vector, or {} when there is none or it does not parse.

    The base score is computed from the vector (the `cvss` package), not taken from the feed:
    the mandatory tests 6.1.9/6.1.10 refuse a score that does not match its vector, and a
    feed's rounding or a second source's score must not block a publication.
    """
    if not vector or not vector.startswith(("CVSS:3.0/", "CVSS:3.1/")):
        return {}
    from cvss import CVSS3
    from cvss.exceptions import CVSS3Error

    try:
        computed = float(CVSS3(vector).base_score)
    except (CVSS3Error, ValueError):
        return {}
    version = vector.split("/", 1)[0].split(":", 1)[1]
    return {
        "products": product_ids,
        "cvss_v3": {
            "version": version,
            "vectorString": vector,
            "baseScore": computed,
            "baseSeverity": _severity(computed),
        },
    }


def _severity(score: float) -> str:
    if score == 0:
        return "NONE"
    if score < 4:
        return "LOW"
    if score < 7:
        return "MEDIUM"
    if score < 9:
        return "HIGH"
    return "CRITICAL"


@dataclass(frozen=True)
class CsafProblem:
    test: str  # "schema" or a mandatory test number such as "6.1.27"
    title: str
    path: str  # JSON pointer
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"test": self.test, "title": self.title, "path": self.path, "message": self.message}


def validate(document: dict[str, Any]) -> list[CsafProblem]:
    """Problems found by the CSAF 2.0 schema and every mandatory test; empty when valid."""
    report = _csaf_validate(document, path="<document>", preset="mandatory")
    problems = []
    for result in report.results:
        if result.passed or result.skipped:
            continue
        for error in result.errors or ():
            problems.append(
                CsafProblem(
                    test=result.id,
                    title=result.title,
                    path=error.instance_path or "/",
                    message=error.message,
                )
            )
        if not result.errors:
            problems.append(CsafProblem(result.id, result.title, "/", "the test failed"))
    return problems


def cwe(cwe_id: str) -> dict[str, str] | None:
    """`{"id", "name"}` with the name from the CWE catalogue the mandatory test 6.1.11 checks
    against, or None for an id the catalogue does not know."""
    from csaf.csaf.v20.rules._shared import _cwe_name_latest

    if not re.fullmatch(r"CWE-\d+", cwe_id):
        return None
    name = _cwe_name_latest(cwe_id[4:])
    return {"id": cwe_id, "name": name} if name else None
