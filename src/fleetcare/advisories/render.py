"""A CSAF 2.0 document as a person reads it: the view the advisory pages render.

    view = advisory_view(document)     # any CSAF 2.0 document, fleetcare's or a supplier's

Product ids are replaced by product names; statuses are grouped per vulnerability in the order
a reader needs them (affected first). Nothing here trusts the document: the template escapes
every string, and missing parts simply do not show.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

STATUS_LABELS = {
    "known_affected": "Affected",
    "first_affected": "Affected (first)",
    "last_affected": "Affected (last)",
    "under_investigation": "Under investigation",
    "fixed": "Fixed",
    "first_fixed": "Fixed (first)",
    "recommended": "Recommended",
    "known_not_affected": "Not affected",
}


@dataclass
class VulnerabilityView:
    ids: list[str]
    title: str
    cwe: str
    notes: list[tuple[str, str]]
    statuses: list[tuple[str, list[str]]]
    scores: list[str]
    remediations: list[tuple[str, str, list[str], str]]
    threats: list[tuple[str, str]]
    flags: list[tuple[str, list[str]]]


@dataclass
class AdvisoryView:
    title: str
    tracking_id: str
    version: str
    status: str
    category: str
    tlp: str
    publisher: str
    initial_release: str
    current_release: str
    notes: list[tuple[str, str]]
    revisions: list[tuple[str, str, str]]
    acknowledgments: list[str]
    references: list[tuple[str, str]]
    vulnerabilities: list[VulnerabilityView] = field(default_factory=list)


def product_names(tree: dict[str, Any]) -> dict[str, str]:
    names: dict[str, str] = {}

    def walk(branches: list[Any]) -> None:
        for branch in branches or []:
            if not isinstance(branch, dict):
                continue
            product = branch.get("product")
            if isinstance(product, dict) and product.get("product_id"):
                names[str(product["product_id"])] = str(product.get("name", ""))
            walk(branch.get("branches") or [])

    walk(tree.get("branches") or [])
    for product in tree.get("full_product_names") or []:
        if isinstance(product, dict) and product.get("product_id"):
            names[str(product["product_id"])] = str(product.get("name", ""))
    for rel in tree.get("relationships") or []:
        full = (rel or {}).get("full_product_name") or {}
        if full.get("product_id"):
            names[str(full["product_id"])] = str(full.get("name", ""))
    return names


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def advisory_view(document: dict[str, Any]) -> AdvisoryView:
    meta = document.get("document") or {}
    tracking = meta.get("tracking") or {}
    names = product_names(document.get("product_tree") or {})

    def named(ids: list[Any]) -> list[str]:
        return [names.get(str(i), str(i)) for i in ids or []]

    view = AdvisoryView(
        title=_text(meta.get("title")),
        tracking_id=_text(tracking.get("id")),
        version=_text(tracking.get("version")),
        status=_text(tracking.get("status")),
        category=_text(meta.get("category")),
        tlp=_text(((meta.get("distribution") or {}).get("tlp") or {}).get("label")) or "WHITE",
        publisher=_text((meta.get("publisher") or {}).get("name")),
        initial_release=_text(tracking.get("initial_release_date")),
        current_release=_text(tracking.get("current_release_date")),
        notes=[
            (_text(n.get("title")) or _text(n.get("category")), _text(n.get("text")))
            for n in meta.get("notes") or []
            if isinstance(n, dict)
        ],
        revisions=[
            (_text(r.get("number")), _text(r.get("date")), _text(r.get("summary")))
            for r in tracking.get("revision_history") or []
            if isinstance(r, dict)
        ],
        acknowledgments=[
            ", ".join(
                [*(a.get("names") or []), *([a["organization"]] if a.get("organization") else [])]
            )
            + (f" ({a['summary']})" if a.get("summary") else "")
            for a in meta.get("acknowledgments") or []
            if isinstance(a, dict)
        ],
        references=[
            (_text(r.get("summary")), _text(r.get("url")))
            for r in meta.get("references") or []
            if isinstance(r, dict)
        ],
    )
    for vuln in document.get("vulnerabilities") or []:
        if not isinstance(vuln, dict):
            continue
        ids = [i for i in [_text(vuln.get("cve"))] if i] + [
            _text(i.get("text")) for i in vuln.get("ids") or [] if isinstance(i, dict)
        ]
        statuses = [
            (STATUS_LABELS[key], named(vuln["product_status"][key]))
            for key in STATUS_LABELS
            if (vuln.get("product_status") or {}).get(key)
        ]
        scores = []
        for score in vuln.get("scores") or []:
            for kind in ("cvss_v3", "cvss_v2"):
                cvss = (score or {}).get(kind)
                if isinstance(cvss, dict):
                    scores.append(
                        f"{cvss.get('baseScore')} {cvss.get('baseSeverity', '')} "
                        f"({cvss.get('vectorString', '')})".strip()
                    )
        cwe = vuln.get("cwe") or {}
        view.vulnerabilities.append(
            VulnerabilityView(
                ids=ids,
                title=_text(vuln.get("title")),
                cwe=f"{cwe.get('id')}: {cwe.get('name')}" if cwe else "",
                notes=[
                    (_text(n.get("title")) or _text(n.get("category")), _text(n.get("text")))
                    for n in vuln.get("notes") or []
                    if isinstance(n, dict)
                ],
                statuses=statuses,
                scores=scores,
                remediations=[
                    (
                        _text(r.get("category")).replace("_", " "),
                        _text(r.get("details")),
                        named(r.get("product_ids") or []),
                        _text(r.get("url")),
                    )
                    for r in vuln.get("remediations") or []
                    if isinstance(r, dict)
                ],
                threats=[
                    (_text(t.get("category")).replace("_", " "), _text(t.get("details")))
                    for t in vuln.get("threats") or []
                    if isinstance(t, dict)
                ],
                flags=[
                    (_text(f.get("label")).replace("_", " "), named(f.get("product_ids") or []))
                    for f in vuln.get("flags") or []
                    if isinstance(f, dict)
                ],
            )
        )
    return view
