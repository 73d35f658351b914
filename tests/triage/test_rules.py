"""The triage rules without a database: complete decisions, SLA clocks, material changes, and
the VEX mapping table read back through the readers."""

from __future__ import annotations

import datetime as dt

import pytest

from fleetcare.triage import vex
from fleetcare.triage.rules import (
    DEFAULT_SLA,
    Justification,
    VexStatus,
    decision_problems,
    fingerprint,
    material_change,
    overdue_kind,
    sla_due,
)

J = Justification.COMPONENT_NOT_PRESENT


@pytest.mark.parametrize(
    ("status", "justification", "impact", "action", "fixed", "fields"),
    [
        (VexStatus.UNDER_INVESTIGATION, None, "", "", None, []),
        (VexStatus.NOT_AFFECTED, J, "", "", None, []),
        (VexStatus.NOT_AFFECTED, None, "only on the lab build", "", None, []),
        (VexStatus.NOT_AFFECTED, None, "  ", "", None, ["justification"]),
        (VexStatus.AFFECTED, None, "", "Update to 2.0.", None, []),
        (VexStatus.AFFECTED, None, "", "", None, ["action_statement"]),
        (VexStatus.AFFECTED, J, "", "Update.", None, ["justification"]),
        (VexStatus.FIXED, None, "", "", "2.0.0", []),
        (VexStatus.FIXED, None, "", "", None, ["fixed_release"]),
        (VexStatus.AFFECTED, None, "", "Update.", "2.0.0", ["fixed_release"]),
    ],
)
def test_decision_completeness(status, justification, impact, action, fixed, fields):
    problems = decision_problems(status, justification=justification, impact_statement=impact,
                                 action_statement=action, fixed_release=fixed)
    assert [p.field for p in problems] == fields


FIRST = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


@pytest.mark.parametrize(("severity", "days"), [
    ("critical", 7), ("high", 30), ("medium", 90), ("low", 180), ("unknown", 180)])
def test_sla_days_per_severity(severity, days):
    assert sla_due(FIRST, severity, DEFAULT_SLA).decision == FIRST + dt.timedelta(days=days)


def test_overdue_kinds():
    due = sla_due(FIRST, "critical", DEFAULT_SLA)
    late = FIRST + dt.timedelta(days=8)
    early = FIRST + dt.timedelta(days=6)
    assert overdue_kind(VexStatus.UNDER_INVESTIGATION, due, late, decided=False) == "decision"
    assert overdue_kind(VexStatus.UNDER_INVESTIGATION, due, early, decided=False) is None
    assert overdue_kind(VexStatus.AFFECTED, due, late, decided=True) == "fix"
    assert overdue_kind(VexStatus.NOT_AFFECTED, due, late, decided=True) is None
    assert overdue_kind(VexStatus.FIXED, due, late, decided=True) is None


def test_material_changes():
    before = fingerprint(kev=False, match_reason="curl 7.82.0 in [7.69.0, 8.4.0)",
                         fixed_version="8.4.0")
    assert material_change(before, dict(before)) is None
    assert material_change(before, {**before, "kev": True}) == "added to the CISA KEV catalogue"
    assert material_change({**before, "kev": True}, before) is None  # leaving KEV re-opens nothing
    assert material_change(before, {**before, "match_reason": "curl 7.82.0 in [7.0, 8.5)"}) == (
        "the affected range changed")
    assert material_change(before, {**before, "fixed_version": "8.5.0"}) == (
        "the fixed version changed")


@pytest.mark.parametrize("fmt", vex.FORMATS)
def test_every_status_and_justification_has_a_term_in_every_format(fmt):
    for status in VexStatus:
        assert vex.STATUS_MAP[status][fmt]
    for justification in Justification:
        assert vex.JUSTIFICATION_MAP[justification][fmt]


def test_lossless_and_lossy_round_trips():
    for justification in Justification:
        for fmt in ("openvex", "csaf"):
            term = vex.JUSTIFICATION_MAP[justification][fmt]
            assert vex._READ_JUSTIFICATION[fmt][term] is justification
    cyclonedx = {j: vex._READ_JUSTIFICATION["cyclonedx"][t["cyclonedx"]]
                 for j, t in vex.JUSTIFICATION_MAP.items()}
    lossy = {j for j, back in cyclonedx.items() if back is not j}
    assert lossy == {Justification.COMPONENT_NOT_PRESENT}  # documented in the README
    for status in VexStatus:
        for fmt in vex.FORMATS:
            assert vex._READ_STATUS[fmt][vex.STATUS_MAP[status][fmt]] is status


def test_odd_sbom_identifiers_stay_out_of_a_valid_csaf_document():
    from fleetcare.triage import csafdoc
    from fleetcare.triage.csafdoc import ComponentRef, ReleaseRef

    release = ReleaseRef("gw", "Gateway", "1.0.0", "GW-1")
    good = ComponentRef(release, "zlib", "1.2.11", "pkg:generic/zlib@1.2.11",
                        "cpe:2.3:a:zlib:zlib:1.2.11:*:*:*:*:*:*:*")
    odd = ComponentRef(release, "blob", "1", "pkg:", "cpe:2.3:a:broken")
    header = vex.VexHeader("gw-vex", "VEX", "Example", "https://example.com",
                           dt.datetime(2026, 1, 1, tzinfo=dt.UTC), (release,))
    statements = [vex.VexStatement("CVE-2022-37434", (), "zlib", c, VexStatus.UNDER_INVESTIGATION)
                  for c in (good, odd)]
    document = vex.to_csaf(header, statements)
    names = {n["product_id"]: n for n in document["product_tree"]["full_product_names"]}
    assert names[good.component_id]["product_identification_helper"]["cpe"] == good.cpe
    assert "product_identification_helper" not in names[odd.component_id]
    assert csafdoc.validate(document) == []


def test_cvss_scores_are_computed_from_the_vector():
    from fleetcare.triage.csafdoc import cvss_v3

    entry = cvss_v3("CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H", ["p"])
    assert entry["cvss_v3"]["baseScore"] == 8.8
    assert entry["cvss_v3"]["baseSeverity"] == "HIGH"
    assert cvss_v3("CVSS:3.1/AV:Q", ["p"]) == {}
    assert cvss_v3("AV:N/AC:L/Au:N/C:P/I:P/A:P", ["p"]) == {}  # v2: not carried
