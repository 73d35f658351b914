"""VEX in three formats: one mapping table, writers, readers of supplier VEX, and schema checks.

    doc = to_openvex(header, statements)          # OpenVEX 0.2.0
    doc = to_cyclonedx(header, statements)        # CycloneDX 1.6 (a BOM with vulnerabilities)
    doc = to_csaf(header, statements)             # CSAF 2.0, profile csaf_vex
    errors = validate_export("openvex", doc)      # [] when the document passes its schema
    fmt, author, found = read_supplier_vex(raw)   # statements of an OpenVEX/CycloneDX/CSAF file

Every translation between fleetcare's words and a format's words goes through `STATUS_MAP` and
`JUSTIFICATION_MAP` below; nothing else in fleetcare spells a format's terms. The lossy points:

- CycloneDX has no "component not present" and nothing for "cannot be controlled by adversary":
  they are written as `code_not_present` and `requires_environment`; read back they become
  `vulnerable_code_not_present` and `vulnerable_code_cannot_be_controlled_by_adversary`.
  CycloneDX's `requires_configuration`/`requires_dependency` also read as the latter, and its
  three `protected_*` justifications as `inline_mitigations_already_exist`.
- CycloneDX `false_positive` reads as not_affected with the impact statement "false positive";
  `resolved_with_pedigree` as fixed. fleetcare never writes either.
- A fleetcare decision "fixed by release Y" on a finding of release X is written as: X affected
  (action: update to Y) and, when Y is in the document, Y fixed. The formats' "fixed" means the
  product named contains the fix, which is Y, not X.
- CSAF keeps no separate action statement for under_investigation; OpenVEX and CycloneDX do not
  carry CVSS. CSAF's `threats`/`impact` holds the impact statement; OpenVEX its own field;
  CycloneDX `analysis.detail`.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from fleetcare.core.errors import InvalidInput
from fleetcare.triage import csafdoc
from fleetcare.triage.csafdoc import ComponentRef, ReleaseRef
from fleetcare.triage.rules import Justification, VexStatus

FORMATS = ("openvex", "cyclonedx", "csaf")

#: fleetcare status -> (OpenVEX status, CycloneDX analysis.state, CSAF product_status key).
STATUS_MAP: dict[VexStatus, dict[str, str]] = {
    VexStatus.UNDER_INVESTIGATION: {
        "openvex": "under_investigation",
        "cyclonedx": "in_triage",
        "csaf": "under_investigation",
    },
    VexStatus.AFFECTED: {
        "openvex": "affected",
        "cyclonedx": "exploitable",
        "csaf": "known_affected",
    },
    VexStatus.NOT_AFFECTED: {
        "openvex": "not_affected",
        "cyclonedx": "not_affected",
        "csaf": "known_not_affected",
    },
    VexStatus.FIXED: {"openvex": "fixed", "cyclonedx": "resolved", "csaf": "fixed"},
}

#: fleetcare justification -> each format's term (CSAF flag labels are OpenVEX's words).
JUSTIFICATION_MAP: dict[Justification, dict[str, str]] = {
    Justification.COMPONENT_NOT_PRESENT: {
        "openvex": "component_not_present",
        "cyclonedx": "code_not_present",
        "csaf": "component_not_present",
    },
    Justification.VULNERABLE_CODE_NOT_PRESENT: {
        "openvex": "vulnerable_code_not_present",
        "cyclonedx": "code_not_present",
        "csaf": "vulnerable_code_not_present",
    },
    Justification.VULNERABLE_CODE_NOT_IN_EXECUTE_PATH: {
        "openvex": "vulnerable_code_not_in_execute_path",
        "cyclonedx": "code_not_reachable",
        "csaf": "vulnerable_code_not_in_execute_path",
    },
    Justification.VULNERABLE_CODE_CANNOT_BE_CONTROLLED_BY_ADVERSARY: {
        "openvex": "vulnerable_code_cannot_be_controlled_by_adversary",
        "cyclonedx": "requires_environment",
        "csaf": "vulnerable_code_cannot_be_controlled_by_adversary",
    },
    Justification.INLINE_MITIGATIONS_ALREADY_EXIST: {
        "openvex": "inline_mitigations_already_exist",
        "cyclonedx": "protected_by_mitigating_control",
        "csaf": "inline_mitigations_already_exist",
    },
}

#: Reading: a format's term -> fleetcare's (the inverse of the maps plus the lossy extras).
_READ_STATUS: dict[str, dict[str, VexStatus]] = {
    fmt: {terms[fmt]: status for status, terms in STATUS_MAP.items()} for fmt in FORMATS
}
_READ_STATUS["cyclonedx"].update(
    {"false_positive": VexStatus.NOT_AFFECTED, "resolved_with_pedigree": VexStatus.FIXED}
)
_READ_STATUS["csaf"].update(
    {
        "first_fixed": VexStatus.FIXED,
        "first_affected": VexStatus.AFFECTED,
        "last_affected": VexStatus.AFFECTED,
        "recommended": VexStatus.FIXED,
    }
)
_READ_JUSTIFICATION: dict[str, dict[str, Justification]] = {
    "openvex": {t["openvex"]: j for j, t in JUSTIFICATION_MAP.items()},
    "csaf": {t["csaf"]: j for j, t in JUSTIFICATION_MAP.items()},
    "cyclonedx": {
        "code_not_present": Justification.VULNERABLE_CODE_NOT_PRESENT,
        "code_not_reachable": Justification.VULNERABLE_CODE_NOT_IN_EXECUTE_PATH,
        "requires_configuration": Justification.VULNERABLE_CODE_CANNOT_BE_CONTROLLED_BY_ADVERSARY,
        "requires_dependency": Justification.VULNERABLE_CODE_CANNOT_BE_CONTROLLED_BY_ADVERSARY,
        "requires_environment": Justification.VULNERABLE_CODE_CANNOT_BE_CONTROLLED_BY_ADVERSARY,
        "protected_by_compiler": Justification.INLINE_MITIGATIONS_ALREADY_EXIST,
        "protected_at_runtime": Justification.INLINE_MITIGATIONS_ALREADY_EXIST,
        "protected_at_perimeter": Justification.INLINE_MITIGATIONS_ALREADY_EXIST,
        "protected_by_mitigating_control": Justification.INLINE_MITIGATIONS_ALREADY_EXIST,
    },
}


@dataclass(frozen=True)
class VexHeader:
    document_id: str
    title: str
    author: str  # the manufacturer
    namespace: str  # the manufacturer's base URL
    timestamp: dt.datetime
    releases: tuple[ReleaseRef, ...]


@dataclass(frozen=True)
class VexStatement:
    """One decision as it is exported: a vulnerability in a component of a release."""

    vulnerability_id: str
    aliases: tuple[str, ...]
    description: str
    component: ComponentRef
    status: VexStatus
    justification: Justification | None = None
    impact_statement: str = ""
    action_statement: str = ""
    fixed_in: ReleaseRef | None = None
    timestamp: dt.datetime | None = None


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _exported(statement: VexStatement) -> tuple[VexStatus, str]:
    """The status and action the format gets for the statement's own release (see "fixed by
    release Y" in the module docstring)."""
    if statement.status is VexStatus.FIXED and statement.fixed_in is not None:
        action = statement.action_statement or (
            f"Update to {statement.fixed_in.full_name}, which fixes this vulnerability."
        )
        return VexStatus.AFFECTED, action
    return statement.status, statement.action_statement


def _component_id(component: ComponentRef) -> str:
    return component.purl or f"{component.name}@{component.version}"


# --- OpenVEX 0.2.0 ------------------------------------------------------------------------------


def to_openvex(header: VexHeader, statements: list[VexStatement]) -> dict[str, Any]:
    in_scope = {r.product_id for r in header.releases}
    out: list[dict[str, Any]] = []
    for st in statements:
        status, action = _exported(st)
        out.append(_openvex_statement(st, st.component.release, status, action))
        if st.fixed_in is not None and st.fixed_in.product_id in in_scope:
            out.append(_openvex_statement(st, st.fixed_in, VexStatus.FIXED, ""))
    return {
        "@context": "https://openvex.dev/ns/v0.2.0",
        "@id": f"{header.namespace}/vex/{header.document_id}",
        "author": header.author,
        "role": "Document Creator",
        "timestamp": _iso(header.timestamp),
        "version": 1,
        "statements": out,
    }


def _openvex_statement(
    st: VexStatement, release: ReleaseRef, status: VexStatus, action: str
) -> dict[str, Any]:
    vulnerability: dict[str, Any] = {"name": st.vulnerability_id}
    aliases = sorted(set(st.aliases) - {st.vulnerability_id})
    if aliases:
        vulnerability["aliases"] = aliases
    if st.description:
        vulnerability["description"] = st.description[:1000]
    product: dict[str, Any] = {"@id": release.purl()}
    if status is not VexStatus.FIXED or release is st.component.release:
        product["subcomponents"] = [{"@id": _component_id(st.component)}]
    statement: dict[str, Any] = {
        "vulnerability": vulnerability,
        "products": [product],
        "status": STATUS_MAP[status]["openvex"],
    }
    if st.timestamp:
        statement["timestamp"] = _iso(st.timestamp)
    if status is VexStatus.NOT_AFFECTED:
        if st.justification:
            statement["justification"] = JUSTIFICATION_MAP[st.justification]["openvex"]
        if st.impact_statement:
            statement["impact_statement"] = st.impact_statement
    if status is VexStatus.AFFECTED:
        statement["action_statement"] = action
    return statement


# --- CycloneDX 1.6 ------------------------------------------------------------------------------


def to_cyclonedx(  # noqa: PLR0912 - one pass over the statements
    header: VexHeader, statements: list[VexStatement]
) -> dict[str, Any]:
    releases: dict[str, dict[str, Any]] = {}
    for release in header.releases:
        releases[release.product_id] = {
            "type": "firmware",
            "bom-ref": f"release:{release.product_id}",
            "name": release.product_name,
            "version": release.version,
            "purl": release.purl(),
            "components": [],
        }
    seen_components: set[str] = set()
    vulnerabilities: list[dict[str, Any]] = []
    for st in statements:
        parent = releases.get(st.component.release.product_id)
        ref = f"{st.component.release.product_id}/{_component_id(st.component)}"
        if parent is not None and ref not in seen_components:
            seen_components.add(ref)
            component: dict[str, Any] = {
                "type": "library",
                "bom-ref": ref,
                "name": st.component.name,
                "version": st.component.version,
            }
            if st.component.purl:
                component["purl"] = st.component.purl
            parent["components"].append(component)
        status, action = _exported(st)
        analysis: dict[str, Any] = {"state": STATUS_MAP[status]["cyclonedx"]}
        detail = ""
        if status is VexStatus.NOT_AFFECTED:
            if st.justification:
                analysis["justification"] = JUSTIFICATION_MAP[st.justification]["cyclonedx"]
            detail = st.impact_statement
        elif status is VexStatus.AFFECTED:
            analysis["response"] = ["update"] if st.fixed_in else ["workaround_available"]
            detail = action
        if detail:
            analysis["detail"] = detail
        if st.timestamp:
            analysis["lastUpdated"] = _iso(st.timestamp)
        entry: dict[str, Any] = {
            "bom-ref": f"vex:{ref}:{st.vulnerability_id}",
            "id": st.vulnerability_id,
            "analysis": analysis,
            "affects": [{"ref": ref}],
        }
        if status is VexStatus.AFFECTED and action:
            entry["recommendation"] = action
        if st.description:
            entry["description"] = st.description[:1000]
        if st.fixed_in is not None and st.fixed_in.product_id in releases:
            entry["affects"].append(
                {
                    "ref": f"release:{st.fixed_in.product_id}",
                    "versions": [{"version": st.fixed_in.version, "status": "unaffected"}],
                }
            )
        vulnerabilities.append(entry)
    components = []
    for firmware in releases.values():
        if not firmware["components"]:
            del firmware["components"]
        components.append(firmware)
    return {
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "serialNumber": f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, header.document_id)}",
        "version": 1,
        "metadata": {
            "timestamp": _iso(header.timestamp),
            "manufacturer": {"name": header.author},
            "component": {
                "type": "firmware",
                "bom-ref": f"vex-scope:{header.document_id}",
                "name": header.title,
            },
        },
        "components": components,
        "vulnerabilities": vulnerabilities,
    }


# --- CSAF 2.0 VEX -------------------------------------------------------------------------------


def to_csaf(header: VexHeader, statements: list[VexStatement]) -> dict[str, Any]:
    in_scope = {r.product_id for r in header.releases}
    by_vuln: dict[str, list[VexStatement]] = {}
    for st in statements:
        by_vuln.setdefault(st.vulnerability_id, []).append(st)
    vulnerabilities = []
    for vuln_id, group in by_vuln.items():
        status_lists: dict[str, list[str]] = {}
        flags: dict[str, list[str]] = {}
        threats: dict[str, list[str]] = {}
        remediations: dict[tuple[str, str], list[str]] = {}
        for st in group:
            status, action = _exported(st)
            pid = st.component.product_id
            status_lists.setdefault(STATUS_MAP[status]["csaf"], []).append(pid)
            if status is VexStatus.NOT_AFFECTED:
                if st.justification:
                    label = JUSTIFICATION_MAP[st.justification]["csaf"]
                    flags.setdefault(label, []).append(pid)
                else:
                    threats.setdefault(st.impact_statement, []).append(pid)
            elif status is VexStatus.AFFECTED:
                category = "vendor_fix" if st.fixed_in else "mitigation"
                remediations.setdefault((category, action), []).append(pid)
            if st.fixed_in is not None and st.fixed_in.product_id in in_scope:
                status_lists.setdefault("fixed", []).append(st.fixed_in.product_id)
        entry: dict[str, Any] = csafdoc.vulnerability_ids(vuln_id, group[0].aliases)
        entry["notes"] = [
            {
                "category": "description",
                "text": group[0].description or f"{vuln_id} in a component of the products.",
                "title": "Vulnerability description",
            }
        ]
        entry["product_status"] = {k: sorted(set(v)) for k, v in status_lists.items()}
        if flags:
            entry["flags"] = [
                {"label": label, "product_ids": sorted(set(ids))} for label, ids in flags.items()
            ]
        if threats:
            entry["threats"] = [
                {"category": "impact", "details": text, "product_ids": sorted(set(ids))}
                for text, ids in threats.items()
            ]
        if remediations:
            entry["remediations"] = [
                {"category": cat, "details": text, "product_ids": sorted(set(ids))}
                for (cat, text), ids in remediations.items()
            ]
        vulnerabilities.append(entry)
    stamp = _iso(header.timestamp)
    tree = csafdoc.product_tree(header.author, header.releases, [st.component for st in statements])
    return {
        "document": {
            "category": "csaf_vex",
            "csaf_version": "2.0",
            "title": header.title,
            "publisher": {
                "category": "vendor",
                "name": header.author,
                "namespace": header.namespace,
            },
            "distribution": {"tlp": {"label": "WHITE"}},
            "lang": "en",
            "tracking": {
                "id": header.document_id,
                "status": "final",
                "version": "1",
                "initial_release_date": stamp,
                "current_release_date": stamp,
                "revision_history": [
                    {"number": "1", "date": stamp, "summary": "Generated from triage decisions."}
                ],
                "generator": {"engine": {"name": "fleetcare"}, "date": stamp},
            },
        },
        "product_tree": tree,
        "vulnerabilities": vulnerabilities,
    }


WRITERS = {"openvex": to_openvex, "cyclonedx": to_cyclonedx, "csaf": to_csaf}


# --- schema checks ------------------------------------------------------------------------------


@cache
def _openvex_validator() -> Any:
    from jsonschema import Draft202012Validator  # type: ignore[import-untyped]

    schema = json.loads(
        (Path(__file__).parent / "schemas" / "openvex_json_schema.json").read_text("utf-8")
    )
    return Draft202012Validator(schema)


@cache
def _cyclonedx_validator() -> Any:
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    return JsonStrictValidator(SchemaVersion.V1_6)


def validate_export(fmt: str, document: dict[str, Any]) -> list[str]:
    """Schema problems of an exported document ("path: message"); [] when valid. CSAF also runs
    the mandatory tests."""
    if fmt == "openvex":
        return [
            f"/{'/'.join(str(p) for p in e.absolute_path)}: {e.message}"
            for e in _openvex_validator().iter_errors(document)
        ]
    if fmt == "cyclonedx":
        error = _cyclonedx_validator().validate_str(json.dumps(document))
        return [] if error is None else [str(error)]
    if fmt == "csaf":
        return [f"{p.path}: {p.test} {p.title}: {p.message}" for p in csafdoc.validate(document)]
    raise InvalidInput(f"unknown VEX format {fmt!r}; choose one of: {', '.join(FORMATS)}")


# --- reading supplier VEX -----------------------------------------------------------------------


@dataclass(frozen=True)
class SupplierStatement:
    vulnerability_id: str
    aliases: tuple[str, ...]
    products: tuple[str, ...]  # purls, CPEs or names with versions the statement is about
    status: VexStatus
    justification: Justification | None = None
    impact_statement: str = ""
    action_statement: str = ""


@dataclass
class SupplierVex:
    format: str
    author: str
    document_id: str
    statements: list[SupplierStatement] = field(default_factory=list)


def read_supplier_vex(raw: bytes) -> SupplierVex:
    """Statements of an OpenVEX, CycloneDX VEX or CSAF (VEX or advisory) document."""
    try:
        doc = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidInput(f"the VEX document is not JSON: {exc}") from None
    if not isinstance(doc, dict):
        raise InvalidInput("the VEX document must be a JSON object")
    if "statements" in doc and "@context" in doc:
        return _read_openvex(doc)
    if doc.get("bomFormat") == "CycloneDX":
        return _read_cyclonedx(doc)
    if isinstance(doc.get("document"), dict) and "csaf_version" in doc["document"]:
        return _read_csaf(doc)
    raise InvalidInput(
        "not a VEX document fleetcare reads: expected OpenVEX (@context and statements), "
        "CycloneDX (bomFormat) or CSAF 2.0 (document.csaf_version)"
    )


def _status(fmt: str, value: Any) -> VexStatus:
    found = _READ_STATUS[fmt].get(str(value))
    if found is None:
        raise InvalidInput(f"unknown {fmt} VEX status {value!r}")
    return found


def _justification(fmt: str, value: Any) -> Justification | None:
    return _READ_JUSTIFICATION[fmt].get(str(value)) if value else None


def _read_openvex(doc: dict[str, Any]) -> SupplierVex:
    out = SupplierVex("openvex", str(doc.get("author", "")), str(doc.get("@id", "")))
    for st in doc.get("statements") or []:
        if not isinstance(st, dict):
            continue
        vuln = st.get("vulnerability")
        if isinstance(vuln, dict):
            name, aliases = str(vuln.get("name", "")), tuple(vuln.get("aliases") or ())
        else:  # OpenVEX 0.0.x: the id as a plain string
            name, aliases = str(vuln or ""), tuple(st.get("aliases") or ())
        products: list[str] = []
        for product in st.get("products") or []:
            if isinstance(product, str):
                products.append(product)
                continue
            if not isinstance(product, dict):
                continue
            products.append(str(product.get("@id", "")))
            products.extend(str(v) for v in (product.get("identifiers") or {}).values())
            for sub in product.get("subcomponents") or []:
                if isinstance(sub, dict):
                    products.append(str(sub.get("@id", "")))
                    products.extend(str(v) for v in (sub.get("identifiers") or {}).values())
        products.extend(str(s) for s in st.get("subcomponents") or [] if isinstance(s, str))
        if not name:
            continue
        status = _status("openvex", st.get("status"))
        out.statements.append(
            SupplierStatement(
                vulnerability_id=name,
                aliases=aliases,
                products=tuple(p for p in products if p),
                status=status,
                justification=_justification("openvex", st.get("justification")),
                impact_statement=str(st.get("impact_statement") or ""),
                action_statement=str(st.get("action_statement") or ""),
            )
        )
    return out


def _cdx_refs(components: list[Any], into: dict[str, list[str]]) -> None:
    for component in components or []:
        if not isinstance(component, dict):
            continue
        ids = [str(component[k]) for k in ("purl", "cpe") if component.get(k)]
        if component.get("name"):
            ids.append(f"{component['name']}@{component.get('version', '')}")
        if component.get("bom-ref"):
            into[str(component["bom-ref"])] = ids
        _cdx_refs(component.get("components") or [], into)


def _read_cyclonedx(doc: dict[str, Any]) -> SupplierVex:
    metadata = doc.get("metadata") or {}
    author = str((metadata.get("manufacturer") or metadata.get("supplier") or {}).get("name", ""))
    out = SupplierVex("cyclonedx", author, str(doc.get("serialNumber", "")))
    refs: dict[str, list[str]] = {}
    _cdx_refs([metadata.get("component")] if metadata.get("component") else [], refs)
    _cdx_refs(doc.get("components") or [], refs)
    for vuln in doc.get("vulnerabilities") or []:
        if not isinstance(vuln, dict) or not vuln.get("id"):
            continue
        analysis = vuln.get("analysis") or {}
        if "state" not in analysis:
            continue
        status = _status("cyclonedx", analysis["state"])
        products: list[str] = []
        for affect in vuln.get("affects") or []:
            ref = str((affect or {}).get("ref", ""))
            # A standalone VEX points into another BOM: urn:cdx:<serial>/<version>#<bom-ref>.
            local = ref.split("#", 1)[1] if ref.startswith("urn:cdx:") and "#" in ref else ref
            products.extend(refs.get(local, [local]))
        detail = str(analysis.get("detail") or "")
        impact = "false positive" if analysis["state"] == "false_positive" else ""
        out.statements.append(
            SupplierStatement(
                vulnerability_id=str(vuln["id"]),
                aliases=tuple(str(r.get("id")) for r in vuln.get("references") or [] if r),
                products=tuple(p for p in products if p),
                status=status,
                justification=_justification("cyclonedx", analysis.get("justification")),
                impact_statement=(detail or impact) if status is VexStatus.NOT_AFFECTED else "",
                action_statement=(
                    str(vuln.get("recommendation") or detail)
                    if status is VexStatus.AFFECTED
                    else ""
                ),
            )
        )
    return out


def csaf_product_identifiers(tree: dict[str, Any]) -> dict[str, list[str]]:
    """product_id -> purls, CPEs and names that identify it, from branches, full product
    names and relationships (a relationship's product is identified by its component)."""
    ids: dict[str, list[str]] = {}

    def add(product: dict[str, Any], version: str = "", name_hint: str = "") -> None:
        pid = str(product.get("product_id", ""))
        if not pid:
            return
        helper = product.get("product_identification_helper") or {}
        found = [str(helper[k]) for k in ("purl", "cpe") if helper.get(k)]
        if name_hint and version:
            found.append(f"{name_hint}@{version}")
        found.append(str(product.get("name", "")))
        ids.setdefault(pid, []).extend(f for f in found if f)

    def walk(branches: list[Any], name_hint: str = "", version: str = "") -> None:
        for branch in branches or []:
            if not isinstance(branch, dict):
                continue
            hint, ver = name_hint, version
            if branch.get("category") == "product_name":
                hint = str(branch.get("name", ""))
            if branch.get("category") == "product_version":
                ver = str(branch.get("name", ""))
            if isinstance(branch.get("product"), dict):
                add(branch["product"], ver, hint)
            walk(branch.get("branches") or [], hint, ver)

    walk(tree.get("branches") or [])
    for product in tree.get("full_product_names") or []:
        if isinstance(product, dict):
            add(product)
    for rel in tree.get("relationships") or []:
        if not isinstance(rel, dict):
            continue
        full = rel.get("full_product_name") or {}
        pid = str(full.get("product_id", ""))
        if pid:
            ids.setdefault(pid, []).extend(ids.get(str(rel.get("product_reference")), []))
    return ids


def _read_csaf(doc: dict[str, Any]) -> SupplierVex:
    document = doc["document"]
    publisher = document.get("publisher") or {}
    tracking = document.get("tracking") or {}
    out = SupplierVex("csaf", str(publisher.get("name", "")), str(tracking.get("id", "")))
    identifiers = csaf_product_identifiers(doc.get("product_tree") or {})
    for vuln in doc.get("vulnerabilities") or []:
        if not isinstance(vuln, dict):
            continue
        vuln_id = vuln.get("cve") or next(
            (i.get("text") for i in vuln.get("ids") or [] if isinstance(i, dict)), None
        )
        if not vuln_id:
            continue
        aliases = tuple(str(i.get("text")) for i in vuln.get("ids") or [] if isinstance(i, dict))
        justification_of: dict[str, Justification | None] = {}
        for flag in vuln.get("flags") or []:
            for pid in flag.get("product_ids") or []:
                justification_of[pid] = _justification("csaf", flag.get("label"))
        impact_of = {
            pid: str(t.get("details", ""))
            for t in vuln.get("threats") or []
            if t.get("category") == "impact"
            for pid in t.get("product_ids") or []
        }
        action_of = {
            pid: str(r.get("details", ""))
            for r in vuln.get("remediations") or []
            for pid in r.get("product_ids") or []
        }
        for key, pids in (vuln.get("product_status") or {}).items():
            if key not in _READ_STATUS["csaf"]:
                continue
            status = _READ_STATUS["csaf"][key]
            for pid in pids or []:
                out.statements.append(
                    SupplierStatement(
                        vulnerability_id=str(vuln_id),
                        aliases=aliases,
                        products=tuple(identifiers.get(pid, [pid])),
                        status=status,
                        justification=(
                            justification_of.get(pid) if status is VexStatus.NOT_AFFECTED else None
                        ),
                        impact_statement=(
                            impact_of.get(pid, "") if status is VexStatus.NOT_AFFECTED else ""
                        ),
                        action_statement=(
                            action_of.get(pid, "") if status is VexStatus.AFFECTED else ""
                        ),
                    )
                )
    return out
