"""Downloading each feed from its publisher into files that the parsers then read.

Every download streams to `<name>.part` beside the destination, stops at a size cap, and is
renamed into place only when complete and plausible: after a `DownloadError` (HTTP error,
timeout, connection cut short, over the cap, not the expected kind of file) nothing is left
behind. Responses that a server may give under load (403 and 429 from rate limits, 5xx) are
retried a few times with a growing pause. Pass an `httpx.Client` to reuse connections or, in
tests, to serve files through `httpx.MockTransport`; without one a client with fleetcare's
User-Agent and timeouts is made for the call.

    from fleetcare.intel.feeds import fetch, osv

    path = fetch.download_osv("PyPI", work_dir)           # osv.dev's PyPI/all.zip
    records = osv.load_records(path)

    pages = fetch.download_nvd(work_dir / "nvd", since=last_sync, until=now, api_key=key)
    records = nvd.load_records(work_dir / "nvd")

| feed | function | what is saved |
|---|---|---|
| OSV | `download_osv(ecosystem, dir)` | `osv-<ecosystem>-all.zip` |
| NVD CVE API 2.0 | `download_nvd(dir, since=, until=)` | `nvd-<window>-<start>.json` per page |
| CISA KEV | `download_kev(dir)` | `known_exploited_vulnerabilities.json` |
| EPSS | `download_epss(dir)` | `epss_scores-current.csv.gz` (or a given day) |
| EUVD | `download_euvd(dir, since=)` | one `euvd-<page>.json` per search page |

The NVD API allows 5 requests per 30 seconds without an API key and 50 with one; NVD asks
clients to pause about 6 seconds between requests, so `download_nvd` does (0.6 s with a key).
For an incremental sync, remember `until` and pass it as the next `since`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import re
import time
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar
from urllib.parse import quote

import httpx

from fleetcare import __version__
from fleetcare.intel.feeds import euvd, nvd
from fleetcare.intel.feeds._reading import read_json_file
from fleetcare.intel.feeds.errors import DownloadError, FeedError

__all__ = [
    "EPSS_CURRENT_URL",
    "EUVD_SEARCH_URL",
    "KEV_URL",
    "NVD_API_URL",
    "OSV_BUCKET_URL",
    "download",
    "download_epss",
    "download_euvd",
    "download_kev",
    "download_nvd",
    "download_osv",
    "new_client",
]

OSV_BUCKET_URL = "https://osv-vulnerabilities.storage.googleapis.com"
NVD_API_URL = nvd.API_URL
KEV_URL = "https://www.cisa.gov/sites/default/files/feeds/known_exploited_vulnerabilities.json"
EPSS_CURRENT_URL = "https://epss.empiricalsecurity.com/epss_scores-current.csv.gz"
EPSS_DAY_URL = "https://epss.empiricalsecurity.com/epss_scores-{day}.csv.gz"
EUVD_SEARCH_URL = euvd.SEARCH_URL

MiB = 1024 * 1024
#: Size caps per response. The largest real files are well below them: OSV's biggest
#: per-ecosystem archives are a few hundred MiB, an NVD page of 2000 CVEs some tens of MiB,
#: KEV about 1.5 MiB, the EPSS file about 10 MiB compressed.
OSV_MAX_BYTES = 2048 * MiB
NVD_PAGE_MAX_BYTES = 256 * MiB
KEV_MAX_BYTES = 64 * MiB
EPSS_MAX_BYTES = 256 * MiB
EUVD_PAGE_MAX_BYTES = 32 * MiB

TIMEOUT = httpx.Timeout(60.0, connect=15.0)
USER_AGENT = f"fleetcare/{__version__} (vulnerability feed sync)"
#: Statuses worth another try: rate limits (NVD answers 403, others 429) and server trouble.
RETRY_STATUSES = frozenset({403, 429, 500, 502, 503, 504})

#: However long a server asks us to wait, a sync does not sleep longer than this per retry.
MAX_RETRY_WAIT = 120.0

NVD_PAUSE = 6.0
NVD_PAUSE_WITH_KEY = 0.6
EUVD_PAUSE = 1.0

Sleep = Callable[[float], None]
_T = TypeVar("_T")


def new_client() -> httpx.Client:
    """An HTTP client with fleetcare's User-Agent (EUVD refuses some default ones) and timeouts."""
    return httpx.Client(timeout=TIMEOUT, headers={"User-Agent": USER_AGENT}, follow_redirects=True)


def download(
    url: str,
    dest: Path,
    *,
    max_bytes: int,
    client: httpx.Client | None = None,
    params: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
    retries: int = 2,
    sleep: Sleep = time.sleep,
) -> Path:
    """GET `url` into the file `dest`, whole or not at all; `DownloadError` says why not."""
    attempts = 0
    with _client(client) as http:
        while True:
            try:
                _stream_to(http, url, dest, max_bytes=max_bytes, params=params, headers=headers)
                return dest
            except _Retryable as problem:
                attempts += 1
                if attempts > retries:
                    raise DownloadError(
                        f"{url} answered HTTP {problem.status} {attempts} times; giving up"
                    ) from None
                wait = problem.retry_after if problem.retry_after is not None else 5.0 * attempts
                sleep(min(wait, MAX_RETRY_WAIT))


def download_osv(
    ecosystem: str,
    dest_dir: Path,
    *,
    client: httpx.Client | None = None,
    max_bytes: int = OSV_MAX_BYTES,
    sleep: Sleep = time.sleep,
) -> Path:
    """osv.dev's archive of every record of `ecosystem` ("PyPI", "Debian", "Alpine", ...)."""
    if not ecosystem or "/" in ecosystem:
        raise ValueError(f"not an OSV ecosystem: {ecosystem!r}")
    url = f"{OSV_BUCKET_URL}/{quote(ecosystem, safe='')}/all.zip"
    slug = re.sub(r"[^A-Za-z0-9.]+", "_", ecosystem)
    dest = download(
        url, dest_dir / f"osv-{slug}-all.zip", max_bytes=max_bytes, client=client, sleep=sleep
    )
    if not zipfile.is_zipfile(dest):
        dest.unlink()
        raise DownloadError(f"{url} did not answer with a zip archive")
    return dest


def download_kev(
    dest_dir: Path,
    *,
    client: httpx.Client | None = None,
    url: str = KEV_URL,
    sleep: Sleep = time.sleep,
) -> Path:
    """CISA's Known Exploited Vulnerabilities catalogue (JSON)."""
    return download(
        url,
        dest_dir / "known_exploited_vulnerabilities.json",
        max_bytes=KEV_MAX_BYTES,
        client=client,
        sleep=sleep,
    )


def download_epss(
    dest_dir: Path,
    *,
    day: dt.date | None = None,
    client: httpx.Client | None = None,
    sleep: Sleep = time.sleep,
) -> Path:
    """FIRST's EPSS scores: today's (`day` None) or a given day's, gzipped CSV."""
    url = EPSS_CURRENT_URL if day is None else EPSS_DAY_URL.format(day=day.isoformat())
    name = url.rsplit("/", 1)[1]
    dest = download(url, dest_dir / name, max_bytes=EPSS_MAX_BYTES, client=client, sleep=sleep)
    with dest.open("rb") as saved:
        if saved.read(2) != b"\x1f\x8b":
            dest.unlink()
            raise DownloadError(f"{url} did not answer with a gzip file")
    return dest


def download_nvd(
    dest_dir: Path,
    *,
    since: dt.datetime,
    until: dt.datetime | None = None,
    api_key: str | None = None,
    client: httpx.Client | None = None,
    results_per_page: int = nvd.MAX_RESULTS_PER_PAGE,
    sleep: Sleep = time.sleep,
) -> list[Path]:
    """Every CVE modified in [since, until] (until: now) from the NVD API, page by page.

    The range is cut into the API's 120-day windows; each page is saved as it comes and the
    paths are returned in order. `dest_dir` should be empty: pages of an earlier run would be
    read along with these.
    """
    until = until or dt.datetime.now(dt.UTC)
    headers = {"apiKey": api_key} if api_key else None
    pause = NVD_PAUSE_WITH_KEY if api_key else NVD_PAUSE
    dest_dir.mkdir(parents=True, exist_ok=True)
    pages: list[Path] = []
    with _client(client) as http:
        for window, (start, end) in enumerate(nvd.modified_windows(since, until)):
            start_index = 0
            while True:
                if pages:
                    sleep(pause)
                params = nvd.api_params(
                    start, end, start_index=start_index, results_per_page=results_per_page
                )
                dest = dest_dir / f"nvd-{window:03d}-{start_index:07d}.json"
                download(
                    NVD_API_URL,
                    dest,
                    max_bytes=NVD_PAGE_MAX_BYTES,
                    client=http,
                    params=params,
                    headers=headers,
                    sleep=sleep,
                )
                info = _checked(dest, _nvd_page_info)
                pages.append(dest)
                start_index += info.count
                if start_index >= info.total_results:
                    break
                if info.count == 0:
                    raise DownloadError(
                        f"NVD answered an empty page at startIndex {start_index} of "
                        f"{info.total_results} results"
                    )
    return pages


def download_euvd(
    dest_dir: Path,
    *,
    since: dt.date,
    exploited_only: bool = False,
    client: httpx.Client | None = None,
    max_pages: int = 10_000,
    sleep: Sleep = time.sleep,
) -> list[Path]:
    """Every EUVD record updated since `since` (a day), page by page from the search API.

    Paging stops at an empty or short page or when `total` records are read; more than
    `max_pages` pages is an error rather than a silently partial sync.
    """
    dest_dir.mkdir(parents=True, exist_ok=True)
    pages: list[Path] = []
    fetched = 0
    with _client(client) as http:
        for page in range(max_pages):
            if pages:
                sleep(EUVD_PAUSE)
            params = {
                "fromUpdatedDate": since.isoformat(),
                "size": str(euvd.MAX_PAGE_SIZE),
                "page": str(page),
            }
            if exploited_only:
                params["exploited"] = "true"
            dest = dest_dir / f"euvd-{page:05d}.json"
            download(
                EUVD_SEARCH_URL,
                dest,
                max_bytes=EUVD_PAGE_MAX_BYTES,
                client=http,
                params=params,
                sleep=sleep,
            )
            count, total = _checked(dest, _euvd_page_counts)
            pages.append(dest)
            fetched += count
            if count < euvd.MAX_PAGE_SIZE or fetched >= total:
                return pages
    raise DownloadError(
        f"EUVD has more than {max_pages} pages of records updated since {since}; "
        "sync a shorter period or raise max_pages"
    )


class _Retryable(Exception):
    def __init__(self, status: int, retry_after: float | None) -> None:
        super().__init__(status)
        self.status = status
        self.retry_after = retry_after


@contextlib.contextmanager
def _client(client: httpx.Client | None) -> Iterator[httpx.Client]:
    if client is not None:
        yield client
        return
    with new_client() as made:
        yield made


def _stream_to(
    http: httpx.Client,
    url: str,
    dest: Path,
    *,
    max_bytes: int,
    params: dict[str, str] | None,
    headers: dict[str, str] | None,
) -> None:
    part = dest.with_name(dest.name + ".part")
    done = False
    headers = dict(headers or {})
    if http.headers.get("user-agent", "").startswith("python-httpx"):
        # A caller's client with httpx's default User-Agent: EUVD's gateway refuses those.
        headers.setdefault("User-Agent", USER_AGENT)
    try:
        # EPSS's "current" file is a redirect to the dated one, whatever the client's setting.
        with http.stream(
            "GET", url, params=params, headers=headers, follow_redirects=True
        ) as response:
            _check_status(response, url)
            declared = _content_length(response)
            if declared is not None and declared > max_bytes:
                raise DownloadError(
                    f"{url} would send {declared} bytes, more than the {max_bytes} allowed"
                )
            written = 0
            dest.parent.mkdir(parents=True, exist_ok=True)
            with part.open("wb") as out:
                for chunk in response.iter_bytes():
                    written += len(chunk)
                    if written > max_bytes:
                        raise DownloadError(f"{url} sent more than the {max_bytes} bytes allowed")
                    out.write(chunk)
            encoded = response.headers.get("content-encoding", "identity") != "identity"
            received = response.num_bytes_downloaded if encoded else written
            if declared is not None and received != declared:
                raise DownloadError(f"{url} was cut short: {received} of {declared} bytes arrived")
        os.replace(part, dest)
        done = True
    except httpx.TimeoutException:
        raise DownloadError(f"{url} did not answer in time") from None
    except httpx.HTTPError as exc:
        raise DownloadError(f"{url} failed: {exc}") from None
    except OSError as exc:
        raise DownloadError(f"cannot save {url} to {dest}: {exc.strerror or exc}") from None
    finally:
        if not done:
            part.unlink(missing_ok=True)


def _check_status(response: httpx.Response, url: str) -> None:
    if response.status_code == 200:
        return
    if response.status_code in RETRY_STATUSES:
        retry_after = response.headers.get("retry-after", "")
        raise _Retryable(
            response.status_code, float(retry_after) if retry_after.isdigit() else None
        )
    reason = response.reason_phrase or ""
    raise DownloadError(f"{url} answered HTTP {response.status_code} {reason}".rstrip())


def _content_length(response: httpx.Response) -> int | None:
    value = response.headers.get("content-length", "")
    return int(value) if value.isdigit() else None


def _checked(dest: Path, read: Callable[[object, str], _T]) -> _T:
    """`read` of the JSON page saved at `dest`; a page that is not one is removed."""
    try:
        return read(read_json_file(dest), str(dest))
    except FeedError:
        dest.unlink(missing_ok=True)
        raise


def _nvd_page_info(document: object, source: str) -> nvd.PageInfo:
    return nvd.page_info(document, source=source)


def _euvd_page_counts(document: object, source: str) -> tuple[int, int]:
    if not isinstance(document, dict) or not isinstance(document.get("items"), list):
        raise FeedError("not an EUVD search answer ({'items': [...], 'total': N})", source=source)
    count = len(document["items"])
    total = document.get("total")
    if isinstance(total, bool) or not isinstance(total, int):
        total = count
    return count, total
