"""Reading findings filters from a page address, and the small formatters the pages share."""

from __future__ import annotations

import datetime as dt

import pytest

from fleetcare.web.finding_filters import FindingQuery
from fleetcare.web.rendering import ago, party, percent, timestamp, when


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, FindingQuery()),
        ({"severity": "HIGH"}, FindingQuery(severity="high")),
        ({"kev": "true", "fix_available": "0"}, FindingQuery(kev=True, fix_available=False)),
        ({"kev": "false"}, FindingQuery(kev=False)),
        ({"epss_min": "0.25"}, FindingQuery(epss_min=0.25)),
        ({"include_withdrawn": "on"}, FindingQuery(include_withdrawn=True)),
        ({"include_withdrawn": "no"}, FindingQuery()),
        ({"product": " gx ", "release": "1.0"}, FindingQuery(product="gx", release="1.0")),
        ({"page": "3"}, FindingQuery(page=3)),
        ({"page": "0"}, FindingQuery(page=1)),
        ({"page": "-2"}, FindingQuery(page=1)),
        ({"page": "99999999999"}, FindingQuery(page=1)),
        ({"severity": "", "kev": "", "epss_min": ""}, FindingQuery()),
    ],
)
def test_filters_are_read_from_the_query_string(params, expected):
    assert FindingQuery.from_params(params) == (expected, [])


@pytest.mark.parametrize(
    ("params", "problem"),
    [
        ({"severity": "scary"}, "Minimum severity: “scary” is not one of critical, high, medium, low"),
        ({"kev": "perhaps"}, "Known exploited (KEV): “perhaps” is neither yes nor no"),
        ({"epss_min": "nan"}, "Minimum EPSS: “nan” is not a probability between 0 and 1"),
        ({"epss_min": "1.5"}, "Minimum EPSS: “1.5” is not a probability between 0 and 1"),
        ({"epss_min": "-0.1"}, "Minimum EPSS: “-0.1” is not a probability between 0 and 1"),
        ({"fix_available": "x" * 300}, "Fix available: “" + "x" * 40 + "” is neither yes nor no"),
    ],
)
def test_an_unreadable_filter_is_dropped_and_named(params, problem):
    assert FindingQuery.from_params(params) == (FindingQuery(), [problem])


def test_the_query_string_round_trips_and_leaves_out_defaults():
    query = FindingQuery(severity="critical", kev=False, epss_min=0.1, fix_available=True,
                         include_withdrawn=True, product="gx", release="1.0", page=2)
    text = query.query_string()
    assert text == ("severity=critical&kev=false&epss_min=0.1&fix_available=true"
                    "&include_withdrawn=true&product=gx&release=1.0&page=2")
    from urllib.parse import parse_qsl

    assert FindingQuery.from_params(dict(parse_qsl(text))) == (query, [])
    assert FindingQuery().query_string() == ""
    assert query.query_string(page=1).endswith("release=1.0")
    assert query.scope_only() == FindingQuery(product="gx", release="1.0")


def test_the_filter_reaches_the_matching_service():
    criteria = FindingQuery(severity="high", kev=True, product="gx").criteria(
        product_id=4, release_id=9
    )
    assert (criteria.product_id, criteria.release_id, criteria.severity, criteria.kev) == (
        4, 9, "high", True
    )
    assert criteria.include_withdrawn is False


@pytest.mark.parametrize(
    ("value", "text"),
    [(None, "—"), (0.82731, "83 %"), (0.04716, "4.7 %"), (0.00214, "0.21 %"), (1.0, "100 %")],
)
def test_epss_reads_as_a_percentage(value, text):
    assert percent(value) == text


def test_times_read_in_utc_and_relative():
    now = dt.datetime(2026, 11, 29, 12, 0, tzinfo=dt.UTC)
    cest = dt.timezone(dt.timedelta(hours=2))
    assert when(dt.datetime(2026, 6, 30, 11, 0, tzinfo=cest)) == "2026-06-30 09:00 UTC"
    assert when(dt.date(2026, 6, 30)) == "2026-06-30"
    assert timestamp("2025-10-21T23:16:19.677000+00:00") == "2025-10-21 23:16 UTC"
    assert timestamp("not a time") == "not a time"
    assert ago(None, now) == "never"
    assert ago(now - dt.timedelta(seconds=30), now) == "just now"
    assert ago(now - dt.timedelta(minutes=1), now) == "1 minute ago"
    assert ago(now - dt.timedelta(hours=5, minutes=59), now) == "5 hours ago"
    assert ago(now - dt.timedelta(days=3), now) == "3 days ago"


@pytest.mark.parametrize(
    ("label", "parts"),
    [
        ("BusyBox (https://busybox.net)", ("BusyBox", "https://busybox.net")),
        ("curl", ("curl", "")),
        ("Acme (EU) (security@acme.example)", ("Acme (EU)", "security@acme.example")),
        ("(odd)", ("(odd)", "")),
    ],
)
def test_an_sbom_party_splits_into_name_and_contact(label, parts):
    assert party(label) == parts
