"""REST API for the vulnerability feeds: their state, and a sync on demand."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel

from fleetcare.core.auth import Principal, Role
from fleetcare.core.http import API_PREFIX, READERS, DbSession, require
from fleetcare.intel import store
from fleetcare.matching.schemas import FeedStateOut

router = APIRouter(prefix=API_PREFIX, tags=["feeds"])
Reader = Annotated[Principal, Depends(require(*READERS))]
Analyst = Annotated[Principal, Depends(require(Role.SECURITY))]


class FeedsOut(BaseModel):
    feeds: list[FeedStateOut]
    counts: dict[str, int]


class SyncQueued(BaseModel):
    source: str
    task_id: str


@router.get("/feeds", response_model=FeedsOut)
def feeds(session: DbSession, who: Reader) -> FeedsOut:
    return FeedsOut(
        feeds=[
            FeedStateOut(
                source=s.source,
                last_sync_at=s.last_sync_at,
                cursor=s.cursor,
                records=s.records,
                last_status=s.last_status,
            )
            for s in store.feed_states(session)
        ],
        counts=store.counts(session),
    )


@router.post("/feeds/{source}/sync", response_model=SyncQueued, status_code=202)
def sync_feed(
    source: Literal["osv", "nvd", "cve", "euvd", "kev", "epss"], who: Analyst
) -> SyncQueued:
    """Queue an online sync of one source from its official URL (a background job)."""
    from fleetcare.intel.tasks import sync_feed_online

    result = sync_feed_online(source)
    return SyncQueued(source=source, task_id=str(getattr(result, "id", "")))
