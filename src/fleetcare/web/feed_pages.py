"""The vulnerability feeds page: where each source's last sync got to, and "sync now".

    GET  /feeds                  every source's last sync, records, status; the store's counts
    POST /feeds/{source}/sync    queue `fleetcare.intel.tasks.sync_feed_online(source)`

A sync downloads a whole feed, so the button only queues the background job (as
`POST /api/v1/feeds/{source}/sync` does) and the page says so; the table shows the result once
the job has run.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from fleetcare.core.errors import NotFound
from fleetcare.core.http import DbSession
from fleetcare.intel import store
from fleetcare.intel.service import SOURCES
from fleetcare.web.auth import AnyUser, SecurityAnalyst, allowed, check_csrf
from fleetcare.web.rendering import SOURCE_LABELS, render

router = APIRouter(include_in_schema=False)

#: What each source contributes, in a line.
SOURCE_ROLES = {
    "osv": "Open-source advisories with affected package ranges (purl matching)",
    "nvd": "CVE records with CVSS, CWE and CPE configurations (CPE matching)",
    "cve": "The CVE Program's own records (CVE JSON 5)",
    "euvd": "ENISA EU Vulnerability Database, with its exploited flag",
    "kev": "Vulnerabilities known to be exploited in the wild",
    "epss": "Daily probability of exploitation in the next 30 days",
}


@router.get("/feeds")
def feeds_page(request: Request, session: DbSession, who: AnyUser) -> Response:
    states = {s.source: s for s in store.feed_states(session)}
    sources = list(SOURCES) + sorted(set(states) - set(SOURCES))
    queued = request.query_params.get("queued", "")
    return render(
        request,
        "feeds.html",
        sources=sources,
        states=states,
        roles=SOURCE_ROLES,
        counts=store.counts(session),
        queued=SOURCE_LABELS.get(queued, "") if queued in SOURCES else "",
        may_sync=allowed(request.state.principal, SecurityAnalyst),
    )


@router.post("/feeds/{source}/sync")
async def sync_feed(request: Request, source: str, who: SecurityAnalyst) -> Response:
    await check_csrf(request)
    if source not in SOURCES:
        raise NotFound(f"no feed {source!r}; the feeds are {', '.join(SOURCES)}")
    from fleetcare.intel import tasks  # the job module registers huey tasks; load it on use

    tasks.sync_feed_online(source)
    return RedirectResponse(f"/feeds?queued={source}", status_code=303)
