"""Downloads against httpx.MockTransport serving the real sample files, and broken answers."""

from __future__ import annotations

import datetime as dt
import gzip
import io
import json
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from fleetcare.intel.feeds import DownloadError, FeedError, epss, euvd, fetch, kev, nvd, osv
from tests.intel import FIXTURES

Handler = Callable[[httpx.Request], httpx.Response]
UTC = dt.UTC
CATALOG = FIXTURES / "kev" / "known_exploited_vulnerabilities.json"


def client(handler: Handler) -> httpx.Client:
    return httpx.Client(transport=httpx.MockTransport(handler))


class Sleeps:
    """Records the pauses a download asks for instead of sleeping."""

    def __init__(self) -> None:
        self.seconds: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.seconds.append(seconds)


def osv_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path in sorted((FIXTURES / "osv").glob("*.json")):
            archive.writestr(path.name, path.read_bytes())
    return buffer.getvalue()


def leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir()) if directory.exists() else []


# --- each source, served its real sample ------------------------------------------------------


def test_osv_all_zip(tmp_path: Path):
    seen: list[httpx.URL] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url)
        return httpx.Response(200, content=osv_zip())

    path = fetch.download_osv("Red Hat", tmp_path, client=client(handler))

    assert str(seen[0]) == "https://osv-vulnerabilities.storage.googleapis.com/Red%20Hat/all.zip"
    assert path == tmp_path / "osv-Red_Hat-all.zip"
    assert len(osv.load_records(path)) == 10
    assert leftovers(tmp_path) == ["osv-Red_Hat-all.zip"]


def test_kev_catalogue(tmp_path: Path):
    def handler(request: httpx.Request) -> httpx.Response:
        assert str(request.url) == fetch.KEV_URL
        assert request.headers["user-agent"] == fetch.USER_AGENT
        return httpx.Response(200, content=CATALOG.read_bytes())

    path = fetch.download_kev(tmp_path, client=client(handler))

    assert len(kev.read_catalog(path).entries) == 1404


def test_epss_current_and_dated(tmp_path: Path):
    seen: list[str] = []
    body = gzip.compress((FIXTURES / "epss" / "epss_scores-sample.csv").read_bytes())

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(200, content=body, headers={"content-type": "application/gzip"})

    current = fetch.download_epss(tmp_path, client=client(handler))
    dated = fetch.download_epss(tmp_path, day=dt.date(2025, 8, 25), client=client(handler))

    assert seen == [
        "https://epss.empiricalsecurity.com/epss_scores-current.csv.gz",
        "https://epss.empiricalsecurity.com/epss_scores-2025-08-25.csv.gz",
    ]
    assert current.name == "epss_scores-current.csv.gz"
    assert dated.name == "epss_scores-2025-08-25.csv.gz"
    assert len(epss.read_scores(current)) == 6


def test_epss_current_follows_the_redirect_to_the_dated_file(tmp_path: Path):
    body = gzip.compress((FIXTURES / "epss" / "epss_scores-sample.csv").read_bytes())

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/epss_scores-current.csv.gz":
            return httpx.Response(
                302, headers={"location": "https://epss.empiricalsecurity.com/epss_scores-2025-08-25.csv.gz"}
            )
        return httpx.Response(200, content=body)

    path = fetch.download_epss(tmp_path, client=client(handler))

    assert epss.read_scores(path)[0].cve_id == "CVE-2024-1086"


def nvd_pages(total_cves: list[dict[str, object]]) -> Handler:
    """An NVD API stand-in that pages `total_cves` as the real one does."""

    def handler(request: httpx.Request) -> httpx.Response:
        params = request.url.params
        start = int(params["startIndex"])
        size = int(params["resultsPerPage"])
        chunk = total_cves[start : start + size]
        return httpx.Response(
            200,
            json={
                "resultsPerPage": len(chunk),
                "startIndex": start,
                "totalResults": len(total_cves),
                "format": "NVD_CVE",
                "version": "2.0",
                "timestamp": "2025-08-25T12:00:00.000",
                "vulnerabilities": [{"cve": cve} for cve in chunk],
            },
        )

    return handler


def real_cves() -> list[dict[str, object]]:
    """The five bare CVE objects among the NVD samples."""
    files = sorted((FIXTURES / "nvd" / "cve-api-2.0").glob("CVE-20*.json"))
    return [json.loads(p.read_text()) for p in files if "cvssv4" not in p.name]


def test_nvd_pages_through_windows_with_an_api_key(tmp_path: Path):
    cves = real_cves()
    requests: list[httpx.Request] = []
    serve = nvd_pages(cves)

    def handler(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        return serve(request)

    sleeps = Sleeps()
    since = dt.datetime(2025, 1, 1, tzinfo=UTC)
    until = dt.datetime(2025, 6, 1, tzinfo=UTC)  # 151 days: two windows

    pages = fetch.download_nvd(
        tmp_path / "nvd", since=since, until=until, api_key="secret-key",
        client=client(handler), results_per_page=2, sleep=sleeps,
    )

    # 5 CVEs in pages of 2 -> 3 pages per window, 2 windows.
    assert [p.name for p in pages] == [
        "nvd-000-0000000.json", "nvd-000-0000002.json", "nvd-000-0000004.json",
        "nvd-001-0000000.json", "nvd-001-0000002.json", "nvd-001-0000004.json",
    ]
    assert all(r.headers["apiKey"] == "secret-key" for r in requests)
    first = requests[0].url.params
    assert first["lastModStartDate"] == "2025-01-01T00:00:00.000+00:00"
    assert first["lastModEndDate"] == "2025-05-01T00:00:00.000+00:00"
    assert requests[3].url.params["lastModStartDate"] == "2025-05-01T00:00:00.000+00:00"
    assert requests[3].url.params["lastModEndDate"] == "2025-06-01T00:00:00.000+00:00"
    assert sleeps.seconds == [fetch.NVD_PAUSE_WITH_KEY] * 5
    records = nvd.load_records(tmp_path / "nvd")
    assert len(records) == 10
    assert {r.id for r in records} == {c["id"] for c in cves}


def test_nvd_without_key_pauses_six_seconds_and_sends_no_key(tmp_path: Path):
    requests: list[httpx.Request] = []
    serve = nvd_pages(real_cves())

    def handler(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        return serve(request)

    sleeps = Sleeps()
    fetch.download_nvd(
        tmp_path, since=dt.datetime(2025, 1, 1, tzinfo=UTC),
        until=dt.datetime(2025, 1, 2, tzinfo=UTC), client=client(handler),
        results_per_page=3, sleep=sleeps,
    )

    assert "apiKey" not in requests[0].headers
    assert sleeps.seconds == [fetch.NVD_PAUSE]


def test_nvd_rate_limit_answer_is_retried(tmp_path: Path):
    answers = iter([httpx.Response(403, headers={"retry-after": "30"})])
    serve = nvd_pages(real_cves())

    def handler(request: httpx.Request) -> httpx.Response:
        return next(answers, None) or serve(request)

    sleeps = Sleeps()
    pages = fetch.download_nvd(
        tmp_path, since=dt.datetime(2025, 1, 1, tzinfo=UTC),
        until=dt.datetime(2025, 1, 2, tzinfo=UTC), client=client(handler), sleep=sleeps,
    )

    assert len(pages) == 1
    assert sleeps.seconds == [30.0]


def test_nvd_page_that_is_not_json_is_a_feed_error_and_removed(tmp_path: Path):
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, text="<html>maintenance</html>")

    with pytest.raises(FeedError, match="malformed JSON"):
        fetch.download_nvd(
            tmp_path, since=dt.datetime(2025, 1, 1, tzinfo=UTC),
            until=dt.datetime(2025, 1, 2, tzinfo=UTC), client=client(handler), sleep=Sleeps(),
        )
    assert leftovers(tmp_path) == []


def test_euvd_single_page(tmp_path: Path):
    requests: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        return httpx.Response(200, content=(FIXTURES / "euvd" / "search-page.json").read_bytes())

    pages = fetch.download_euvd(
        tmp_path, since=dt.date(2025, 8, 1), exploited_only=True, client=client(handler)
    )

    assert len(pages) == 1
    params = requests[0].url.params
    assert requests[0].url.path == "/api/search"
    assert dict(params) == {
        "fromUpdatedDate": "2025-08-01", "size": "100", "page": "0", "exploited": "true",
    }
    assert [r.id for r in euvd.load_records(tmp_path)] == [
        "EUVD-2024-9000001", "EUVD-2023-9000002", "EUVD-2025-9000003",
    ]


def test_euvd_pages_until_total(tmp_path: Path):
    item = json.loads((FIXTURES / "euvd" / "search-page.json").read_text())["items"][0]

    def handler(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params["page"])
        count = 100 if page == 0 else 50
        items = [dict(item, id=f"EUVD-2025-{page * 100 + n}") for n in range(count)]
        return httpx.Response(200, json={"items": items, "total": 150})

    sleeps = Sleeps()
    pages = fetch.download_euvd(
        tmp_path, since=dt.date(2025, 8, 1), client=client(handler), sleep=sleeps
    )

    assert [p.name for p in pages] == ["euvd-00000.json", "euvd-00001.json"]
    assert sleeps.seconds == [fetch.EUVD_PAUSE]
    assert len(euvd.load_records(tmp_path)) == 150


def test_euvd_with_more_pages_than_allowed_is_an_error(tmp_path: Path):
    item = json.loads((FIXTURES / "euvd" / "search-page.json").read_text())["items"][0]

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"items": [item] * 100, "total": 10_000})

    with pytest.raises(DownloadError, match="more than 2 pages"):
        fetch.download_euvd(
            tmp_path, since=dt.date(2025, 8, 1), client=client(handler), max_pages=2,
            sleep=Sleeps(),
        )


# --- broken answers -------------------------------------------------------------------------


def test_server_error_is_retried_then_reported_and_nothing_is_left(tmp_path: Path):
    calls: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        return httpx.Response(500)

    sleeps = Sleeps()
    with pytest.raises(DownloadError) as caught:
        fetch.download_kev(tmp_path, client=client(handler), sleep=sleeps)

    assert str(caught.value) == f"{fetch.KEV_URL} answered HTTP 500 3 times; giving up"
    assert caught.value.status_code == 502
    assert len(calls) == 3
    assert sleeps.seconds == [5.0, 10.0]
    assert leftovers(tmp_path) == []


def test_not_found_is_not_retried(tmp_path: Path):
    calls: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        return httpx.Response(404)

    with pytest.raises(DownloadError, match="answered HTTP 404 Not Found"):
        fetch.download_osv("NoSuchEcosystem", tmp_path, client=client(handler))
    assert len(calls) == 1
    assert leftovers(tmp_path) == []


def test_response_shorter_than_its_content_length_is_truncated(tmp_path: Path):
    body = osv_zip()

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200, content=body[: len(body) // 2], headers={"content-length": str(len(body))}
        )

    with pytest.raises(DownloadError, match=f"was cut short: {len(body) // 2} of {len(body)}"):
        fetch.download_osv("PyPI", tmp_path, client=client(handler))
    assert leftovers(tmp_path) == []


class DroppedConnection(httpx.SyncByteStream):
    def __iter__(self) -> Iterator[bytes]:
        yield b'{"catalogVersion": "2025.08.25", "vulnerabilities": ['
        raise httpx.RemoteProtocolError("peer closed connection without sending complete body")


def test_connection_dropped_mid_body(tmp_path: Path):
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, stream=DroppedConnection())

    with pytest.raises(DownloadError, match="peer closed connection"):
        fetch.download_kev(tmp_path, client=client(handler))
    assert leftovers(tmp_path) == []


def test_truncated_body_without_content_length_is_caught_by_the_parser(tmp_path: Path):
    body = CATALOG.read_bytes()

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, stream=httpx.ByteStream(body[:100_000]))

    path = fetch.download_kev(tmp_path, client=client(handler))
    with pytest.raises(FeedError, match="malformed JSON"):
        kev.read_catalog(path)


def test_size_cap_from_content_length_and_while_streaming(tmp_path: Path):
    body = b"x" * 5000

    def declared(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=body)

    def undeclared(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, stream=httpx.ByteStream(body))

    with pytest.raises(DownloadError, match="would send 5000 bytes, more than the 1000 allowed"):
        fetch.download("https://feeds.example/x", tmp_path / "x", max_bytes=1000,
                       client=client(declared))
    with pytest.raises(DownloadError, match="sent more than the 1000 bytes allowed"):
        fetch.download("https://feeds.example/x", tmp_path / "x", max_bytes=1000,
                       client=client(undeclared))
    assert leftovers(tmp_path) == []


def test_timeout(tmp_path: Path):
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    with pytest.raises(DownloadError, match="did not answer in time"):
        fetch.download_epss(tmp_path, client=client(handler))


def test_answers_of_the_wrong_kind_are_refused(tmp_path: Path):
    def html(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, text="<html>Access denied</html>")

    with pytest.raises(DownloadError, match="did not answer with a zip archive"):
        fetch.download_osv("PyPI", tmp_path, client=client(html))
    with pytest.raises(DownloadError, match="did not answer with a gzip file"):
        fetch.download_epss(tmp_path, client=client(html))
    with pytest.raises(FeedError, match="not an EUVD search answer"):
        fetch.download_euvd(tmp_path, since=dt.date(2025, 1, 1), client=client(
            lambda request: httpx.Response(200, json={"error": "bad request"})))
    assert leftovers(tmp_path) == []


def test_a_failed_download_keeps_the_previous_file(tmp_path: Path):
    good = CATALOG.read_bytes()
    fetch.download_kev(tmp_path, client=client(lambda request: httpx.Response(200, content=good)))

    with pytest.raises(DownloadError):
        fetch.download_kev(tmp_path, client=client(lambda request: httpx.Response(404)))

    assert (tmp_path / "known_exploited_vulnerabilities.json").read_bytes() == good


def test_default_client_sends_fleetcare_user_agent():
    with fetch.new_client() as http:
        assert http.headers["user-agent"].startswith("fleetcare/")
        assert http.timeout.read == 60.0


def test_a_callers_own_user_agent_is_kept(tmp_path: Path):
    agents: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        agents.append(request.headers["user-agent"])
        return httpx.Response(200, content=CATALOG.read_bytes())

    with httpx.Client(transport=httpx.MockTransport(handler),
                      headers={"User-Agent": "acme-psirt/2"}) as http:
        fetch.download_kev(tmp_path, client=http)

    assert agents == ["acme-psirt/2"]
