"""The findings page across the portfolio, and the page of one vulnerability."""

from __future__ import annotations

import pytest

from fleetcare.web import finding_filters, finding_pages
from fleetcare.web.finding_pages import safe_link
from tests.web.conftest import attach, table_rows

# Every open finding of the demo SBOMs against the feed sample, in the order the page lists them:
# known exploited first, then by severity, then by EPSS.
ALL = [
    ("CVE-2024-1086", "Gateway GX-500", "23.05.5-gx3"),
    ("CVE-2024-1086", "Thermostat T2", "2.4.9"),
    ("CVE-2023-38545", "Gateway GX-500", "23.05.5-gx3"),
    ("CVE-2023-38545", "Thermostat T2", "2.4.9"),
    ("CVE-2022-37434", "Thermostat T2", "2.4.9"),
    ("CVE-2022-48174", "Gateway GX-500", "23.05.5-gx3"),
    ("CVE-2022-48174", "Gateway GX-500", "24.10.2-gx5"),
    ("CVE-2022-48174", "Thermostat T2", "2.4.9"),
    ("CVE-2022-48174", "Thermostat T3", "3.1.0"),
    ("CVE-2023-45803", "Thermostat T2", "2.4.9"),
]


@pytest.fixture
def everything(feeds_loaded):
    """Every demo SBOM attached: ten findings over four releases."""
    attach(feeds_loaded, "gx-500-23.05.5-gx3.cdx.json")
    attach(feeds_loaded, "gx-500-24.10.2-gx5.cdx.json", version="24.10.2-gx5")
    attach(feeds_loaded, "th-t2-2.4.9.cdx.json", product="Thermostat T2", version="2.4.9")
    attach(feeds_loaded, "th-t3-3.1.0.cdx.json", product="Thermostat T3", version="3.1.0")
    return feeds_loaded


def listed(html: str) -> list[tuple[str, str, str]]:
    """(vulnerability, product, release) of each row of the findings table."""
    found = []
    for row in table_rows(html, "findings"):
        if len(row) > 1:
            product, release = row[3].rsplit(" ", 1)
            found.append((row[0].split()[0], product, release))
    return found


def test_findings_are_listed_kev_first_then_by_severity_and_epss(client, everything, log_in):
    log_in(client, "viewer")

    page = client.get("/findings").text

    assert listed(page) == ALL
    assert "10 findings open" in page


def test_kev_candidates_are_highlighted_as_article_14(client, everything, log_in):
    log_in(client, "viewer")

    page = client.get("/findings").text

    rows = table_rows(page, "findings")
    assert [r[0].startswith("CVE-2024-1086 candidate actively exploited — Article 14") for r in rows] == [
        True, True, *[False] * 8
    ]
    assert page.count('<tr class="candidate">') == 2
    assert "2 findings are candidates for an actively exploited vulnerability" in page
    assert "within 24 hours" in page


def test_a_kev_finding_on_a_draft_release_is_not_a_candidate(client, everything, log_in):
    from fleetcare.matching import service as matching
    from fleetcare.portfolio import service as portfolio
    from fleetcare.portfolio.schemas import ReleaseStatus

    with everything.session() as session:  # released releases cannot become drafts again
        release = portfolio.get_release(session, "Thermostat T2", "2.4.9")
        release.status = ReleaseStatus.DRAFT.value
        matching.match_release(session, release.id)
        session.commit()
    log_in(client, "viewer")

    rows = table_rows(client.get("/findings").text, "findings")

    t2 = next(r for r in rows if r[0].startswith("CVE-2024-1086") and "Thermostat T2" in r[3])
    assert "candidate" not in t2[0]
    assert "KEV" in t2[0]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("product=thermostat-t2", [f for f in ALL if f[1] == "Thermostat T2"]),
        ("product=gateway-gx-500&release=24.10.2-gx5", [ALL[6]]),
        ("severity=critical&product=gateway-gx-500", [ALL[2], ALL[5], ALL[6]]),
        ("kev=true", ALL[:2]),
        ("epss_min=0.01", ALL[:5]),
        ("fix_available=true", [ALL[0], ALL[1], ALL[2], ALL[3], ALL[9]]),
        ("severity=medium&fix_available=false", [ALL[4], *ALL[5:9]]),
    ],
)
def test_filters_change_what_is_listed(client, everything, log_in, query, expected):
    log_in(client, "viewer")
    assert listed(client.get(f"/findings?{query}").text) == expected


def test_the_product_filter_offers_every_product(client, everything, log_in):
    log_in(client, "viewer")

    page = client.get("/findings?product=thermostat-t2").text

    assert '<option value="thermostat-t2" selected>Thermostat T2</option>' in page
    assert '<option value="smart-plug-sp1" >Smart Plug SP1</option>' in page
    assert "<h1>Findings <span class=\"scope\">Thermostat T2</span></h1>" in page


def test_an_unknown_product_is_named_and_everything_is_shown(client, everything, log_in):
    log_in(client, "viewer")

    response = client.get("/findings?product=nope")

    assert response.status_code == 200
    assert "Product: no product &#39;nope&#39;; showing every product" in response.text
    assert len(listed(response.text)) == 10


def test_pages_of_findings_keep_the_filters(client, everything, log_in, monkeypatch):
    monkeypatch.setattr(finding_filters, "PAGE_SIZE", 4)
    monkeypatch.setattr(finding_pages, "PAGE_SIZE", 4)
    log_in(client, "viewer")

    first = client.get("/findings?severity=medium").text
    assert listed(first) == ALL[:4]
    assert "1\N{EN DASH}4 of 10" in first
    assert 'href="/findings?severity=medium&amp;page=2#findings" rel="next"' in first

    last = client.get("/findings?severity=medium&page=3").text
    assert listed(last) == ALL[8:]
    assert "9\N{EN DASH}10 of 10" in last
    assert 'rel="next"' not in last
    assert 'href="/findings?severity=medium&amp;page=2#findings" rel="prev"' in last


def test_an_empty_portfolio_says_how_findings_appear(client, feeds_loaded, log_in):
    log_in(client, "viewer")
    page = client.get("/findings").text
    assert "No open findings. Attach SBOMs to releases" in page
    assert "candidates for an actively exploited" not in page


def test_the_portfolio_page_summarises_the_findings(client, everything, log_in):
    log_in(client, "viewer")

    page = client.get("/portfolio").text

    tiles = page.split('aria-label="findings across the portfolio"', 1)[1].split("</ul>", 1)[0]
    assert '<span class="count">10</span> open findings' in tiles
    assert '<span class="count">2</span> candidates actively exploited (Art. 14)' in tiles
    assert '<span class="count">7</span> critical' in tiles
    rows = {r[0] for r in table_rows(page, "products")}
    assert "Gateway GX-500 Art. 14 candidate" in rows
    assert "Thermostat T3" in rows  # busybox only: no candidate


# --- the vulnerability page ----------------------------------------------------------------


def test_a_finding_links_to_its_vulnerability_page(client, everything, log_in):
    log_in(client, "viewer")
    page = client.get("/findings").text
    assert '<a href="/vulnerabilities/CVE-2024-1086">CVE-2024-1086</a>' in page


def test_the_vulnerability_page_shows_scores_exploitation_and_every_affected_release(
    client, everything, log_in
):
    log_in(client, "viewer")

    page = client.get("/vulnerabilities/CVE-2024-1086").text

    assert "<h1>CVE-2024-1086</h1>" in page
    assert "A use-after-free vulnerability in the Linux kernel" in page
    assert "CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H" in page
    assert "<strong>7.8</strong>" in page
    assert "83 % probability of exploitation in the next 30 days (percentile 99.2)" in page
    assert "added 2024-05-30, remediation due 2024-06-20" in page
    assert 'href="https://cwe.mitre.org/data/definitions/416.html"' in page
    assert [row[:5] for row in table_rows(page, "affected")] == [
        ["Gateway GX-500", "23.05.5-gx3", "released", "linux 5.15.137", "5.15.149"],
        ["Thermostat T2", "2.4.9", "released", "linux 5.4.230", "5.15.149"],
    ]
    assert all(
        row[5] == "candidate actively exploited — Article 14"
        for row in table_rows(page, "affected")
    )
    assert 'href="/portfolio/thermostat-t2/releases/2.4.9#findings"' in page


def test_each_source_says_its_own_part(client, everything, log_in):
    log_in(client, "viewer")

    page = client.get("/vulnerabilities/CVE-2022-37434").text

    sources = page.split('id="sources"', 1)[1].split("</section>", 1)[0]
    assert 'NVD · <a href="https://nvd.nist.gov/vuln/detail/CVE-2022-37434"' in sources
    assert 'OSV · <a href="https://osv.dev/vulnerability/GHSA-cfmr-vrgj-vqwv"' in sources
    assert "cpe:2.3:a:zlib:zlib:*:*:*:*:*:*:*:* (&lt;= 1.2.12)" in sources
    assert "from nvd@nist.gov, primary" in sources


def test_any_alias_opens_the_vulnerability(client, everything, log_in):
    log_in(client, "viewer")

    response = client.get("/vulnerabilities/GHSA-cfmr-vrgj-vqwv")

    assert response.status_code == 200
    assert "<h1>CVE-2022-37434</h1>" in response.text
    assert "You asked for GHSA-cfmr-vrgj-vqwv, an alias of CVE-2022-37434." in response.text
    assert client.get("/vulnerabilities/cve-2022-37434").status_code == 200


def test_an_unknown_vulnerability_is_not_found(client, everything, log_in):
    log_in(client, "viewer")
    response = client.get("/vulnerabilities/CVE-1999-0001")
    assert response.status_code == 404
    assert "no vulnerability &#39;CVE-1999-0001&#39; in the store" in response.text


def test_a_vulnerability_without_findings_says_so(client, feeds_loaded, log_in):
    log_in(client, "viewer")
    page = client.get("/vulnerabilities/CVE-2023-38408").text
    assert "No release of the portfolio contains an affected component." in page
    assert "Candidate actively exploited" not in page


@pytest.mark.parametrize(
    ("url", "link"),
    [
        ("https://nvd.nist.gov/vuln/detail/CVE-2024-1086", True),
        ("http://www.openwall.com/lists/oss-security/2024/04/10/22", True),
        ("javascript:alert(1)", False),
        ("data:text/html,<script>alert(1)</script>", False),
        ("//evil.example/x", False),
        ("https://", False),
        ("http://[::1", False),
    ],
)
def test_only_web_addresses_from_feeds_become_links(url, link):
    assert (safe_link(url) is not None) is link
