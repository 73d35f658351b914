"""The online path of `feeds sync`: official URLs, served here by a mock transport with real files.

The outside world (CISA, OSV's bucket, FIRST) cannot be reached from tests; the real download,
parsing, import and re-matching code runs on the bundled sample files.
"""

from __future__ import annotations

import gzip
import io
import zipfile

import httpx
import pytest

from fleetcare.intel import service as intel
from fleetcare.intel.feeds import DownloadError, fetch
from fleetcare.matching import service as matching
from tests.pipeline.conftest import FEEDS, attach_all


def _osv_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in sorted((FEEDS / "osv").glob("*.json")):
            archive.writestr(path.name, path.read_bytes())
    return buffer.getvalue()


@pytest.fixture
def official_sites(monkeypatch):
    seen: list[str] = []
    kev = (FEEDS / "kev" / "known_exploited_vulnerabilities.json").read_bytes()
    epss = gzip.compress((FEEDS / "epss" / "epss_scores-demo.csv").read_bytes())
    osv_zip = _osv_zip()

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        if request.url.host == "www.cisa.gov":
            return httpx.Response(200, content=kev)
        if "epss" in request.url.host:
            return httpx.Response(200, content=epss)
        if request.url.path.endswith("/PyPI/all.zip"):
            return httpx.Response(200, content=osv_zip)
        if request.url.path.endswith("all.zip"):
            return httpx.Response(404)
        return httpx.Response(500)

    transport = httpx.MockTransport(handler)
    monkeypatch.setattr(fetch, "new_client", lambda: httpx.Client(transport=transport))
    return seen


def test_online_sync_downloads_imports_and_matches(portfolio_db, official_sites):
    with portfolio_db.session() as session:
        attach_all(session)
        osv = intel.sync(session, "osv", osv_ecosystems=["PyPI"])
        kev = intel.sync(session, "kev")
        epss = intel.sync(session, "epss")
        session.commit()
        assert osv.added == 2
        assert kev.records == 4
        assert epss.records == 7
        urllib3 = [f for f in matching.list_findings(session, matching.FindingFilter())[0]
                   if f.component == "urllib3"]
        assert [f.vulnerability_id for f in urllib3] == ["CVE-2023-45803"]
        assert urllib3[0].epss_score is not None
    assert any(url.startswith(fetch.KEV_URL) for url in official_sites)


def test_an_unreachable_source_changes_nothing(portfolio_db, official_sites):
    with portfolio_db.session() as session:
        with pytest.raises(DownloadError):
            intel.sync(session, "osv", osv_ecosystems=["Go"])
        session.rollback()
        from fleetcare.intel import store

        assert store.counts(session)["source_records"] == 0
