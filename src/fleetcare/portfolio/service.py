"""Portfolio operations: products with their CRA support periods, and their releases.

Every function takes the caller's session and a `Principal`, checks the rules in `rules.py`,
writes an audit event beside the change, and leaves the commit to the caller.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from fleetcare.core import audit
from fleetcare.core.auth import Principal
from fleetcare.core.errors import Conflict, InvalidInput, NotFound, RuleViolation
from fleetcare.portfolio import rules
from fleetcare.portfolio.models import Product, Release
from fleetcare.portfolio.schemas import (
    CraCategory,
    ProductDetail,
    ProductIn,
    ProductOut,
    ProductPatch,
    ReleaseIn,
    ReleaseKind,
    ReleaseOut,
    ReleaseStatus,
    SupportCycle,
)

SECURITY_KINDS = frozenset({ReleaseKind.SECURITY.value, ReleaseKind.MIXED.value})


def today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


def slugify(name: str) -> str:
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")
    return slug[:190] or "product"


# --- products ----------------------------------------------------------------------------


def get_product(session: Session, ref: int | str) -> Product:
    """A product by id, slug or exact name."""
    product: Product | None = None
    if isinstance(ref, int) or (isinstance(ref, str) and ref.isdigit()):
        product = session.get(Product, int(ref))
    if product is None and isinstance(ref, str):
        product = session.execute(
            select(Product).where((Product.slug == ref) | (Product.name == ref))
        ).scalar()
    if product is None:
        raise NotFound(f"no product {ref!r}")
    return product


def get_product_by_slug(session: Session, slug: str) -> Product:
    """A product by its URL slug only (pages use this: a name like '2024' is not an id)."""
    product = session.execute(select(Product).where(Product.slug == slug)).scalar()
    if product is None:
        raise NotFound(f"no product {slug!r}")
    return product


def _product_state(product: Product) -> dict[str, Any]:
    return {
        "name": product.name,
        "model_id": product.model_id,
        "cra_category": product.cra_category,
        "placed_on_market": product.placed_on_market,
        "expected_use_months": product.expected_use_months,
        "support_end": product.support_end,
        "end_of_sale": product.end_of_sale,
        "successor_id": product.successor_id,
        "support_justification": product.support_justification,
    }


def _check_support_period(product: Product) -> None:
    problems = rules.support_period_problems(
        placed_on_market=product.placed_on_market,
        support_end=product.support_end,
        end_of_sale=product.end_of_sale,
        expected_use_months=product.expected_use_months,
        justification=product.support_justification or {},
    )
    if problems:
        raise RuleViolation(problems[0], {"problems": problems})


def _check_unique_name(session: Session, name: str, slug: str, exclude_id: int | None) -> None:
    query = select(Product.name).where(
        (func.lower(Product.name) == name.lower()) | (Product.slug == slug)
    )
    if exclude_id is not None:
        query = query.where(Product.id != exclude_id)
    clash = session.execute(query).scalar()
    if clash is not None:
        raise Conflict(f"a product named {clash!r} already exists; product names must be unique")


def _resolve_successor(session: Session, ref: str | None, product_id: int | None) -> int | None:
    if not ref:
        return None
    try:
        successor = get_product(session, ref)
    except NotFound:
        raise InvalidInput(f"successor {ref!r} is not a known product") from None
    if product_id is not None and successor.id == product_id:
        raise InvalidInput("a product cannot be its own successor")
    return successor.id


def create_product(session: Session, data: ProductIn, *, actor: Principal) -> Product:
    slug = slugify(data.name)
    _check_unique_name(session, data.name, slug, None)
    product = Product(
        name=data.name,
        slug=slug,
        model_id=data.model_id,
        description=data.description,
        intended_purpose=data.intended_purpose,
        cra_category=data.cra_category.value,
        placed_on_market=data.placed_on_market,
        expected_use_months=data.expected_use_months,
        support_end=data.support_end,
        end_of_sale=data.end_of_sale,
        successor_id=_resolve_successor(session, data.successor, None),
        support_justification=data.support_justification.model_dump(),
    )
    _check_support_period(product)
    session.add(product)
    session.flush()
    audit.record(
        session,
        actor=actor.actor,
        action="product.create",
        object_type="product",
        object_id=product.id,
        after=_product_state(product),
    )
    return product


def update_product(
    session: Session, product_ref: int | str, patch: ProductPatch, *, actor: Principal
) -> Product:
    product = get_product(session, product_ref)
    before = _product_state(product)
    fields = patch.model_fields_set
    if "name" in fields and patch.name is not None and patch.name != product.name:
        slug = slugify(patch.name)
        _check_unique_name(session, patch.name, slug, product.id)
        product.name, product.slug = patch.name, slug
    for field in ("model_id", "description", "intended_purpose", "placed_on_market", "support_end"):
        value = getattr(patch, field)
        if field in fields and value is not None:
            setattr(product, field, value)
    if "cra_category" in fields and patch.cra_category is not None:
        product.cra_category = patch.cra_category.value
    # These may be cleared by sending null.
    if "expected_use_months" in fields:
        product.expected_use_months = patch.expected_use_months
    if "end_of_sale" in fields:
        product.end_of_sale = patch.end_of_sale
    if "successor" in fields:
        product.successor_id = _resolve_successor(session, patch.successor, product.id)
    if "support_justification" in fields and patch.support_justification is not None:
        product.support_justification = patch.support_justification.model_dump()
    _check_support_period(product)
    after = _product_state(product)
    changed = {k: v for k, v in after.items() if before[k] != v}
    if changed:
        session.flush()
        audit.record(
            session,
            actor=actor.actor,
            action="product.update",
            object_type="product",
            object_id=product.id,
            before={k: before[k] for k in changed},
            after=changed,
        )
    return product


def list_products(
    session: Session, *, limit: int = 100, offset: int = 0, search: str | None = None
) -> tuple[list[Product], int]:
    query = select(Product)
    count = select(func.count(Product.id))
    if search:
        pattern = f"%{search.lower()}%"
        condition = func.lower(Product.name).like(pattern) | func.lower(Product.model_id).like(
            pattern
        )
        query = query.where(condition)
        count = count.where(condition)
    total = session.execute(count).scalar_one()
    products = (
        session.execute(
            query.options(selectinload(Product.successor))
            .order_by(Product.name)
            .limit(limit)
            .offset(offset)
        )
        .scalars()
        .all()
    )
    return list(products), total


# --- releases ----------------------------------------------------------------------------


def release_available_until(release: Release, product: Product) -> dt.date | None:
    """Art. 13(9) availability end, for security-bearing releases that were issued."""
    if release.kind not in SECURITY_KINDS or release.status == ReleaseStatus.DRAFT.value:
        return None
    return rules.security_update_available_until(release.release_date, product.support_end)


def get_release(session: Session, product_ref: int | str, version: str) -> Release:
    product = get_product(session, product_ref)
    release = session.execute(
        select(Release).where(Release.product_id == product.id, Release.version == version)
    ).scalar()
    if release is None:
        raise NotFound(f"product {product.name!r} has no release {version!r}")
    return release


def get_release_by_id(session: Session, release_id: int) -> Release:
    release = session.get(Release, release_id)
    if release is None:
        raise NotFound(f"no release with id {release_id}")
    return release


def create_release(
    session: Session, product_ref: int | str, data: ReleaseIn, *, actor: Principal
) -> Release:
    product = get_product(session, product_ref)
    exists = session.execute(
        select(Release.id).where(Release.product_id == product.id, Release.version == data.version)
    ).first()
    if exists:
        raise Conflict(f"product {product.name!r} already has a release {data.version!r}")
    release = Release(
        product_id=product.id,
        version=data.version,
        release_date=data.release_date,
        kind=data.kind.value,
        status=data.status.value,
        notes=data.notes,
    )
    session.add(release)
    session.flush()
    audit.record(
        session,
        actor=actor.actor,
        action="release.create",
        object_type="release",
        object_id=release.id,
        after={
            "product": product.name,
            "version": release.version,
            "kind": release.kind,
            "status": release.status,
            "release_date": release.release_date,
        },
    )
    return release


def _refuse_if_must_stay_available(release: Release, what: str) -> None:
    until = release_available_until(release, release.product)
    if until is not None and today() <= until:
        raise RuleViolation(
            f"cannot {what} security release {release.version} of {release.product.name}: "
            f"CRA Art. 13(9) requires it to stay available until {until}",
            {"available_until": until.isoformat()},
        )


_TRANSITIONS = {
    ReleaseStatus.DRAFT: {ReleaseStatus.RELEASED, ReleaseStatus.WITHDRAWN},
    ReleaseStatus.RELEASED: {ReleaseStatus.WITHDRAWN},
    ReleaseStatus.WITHDRAWN: set(),
}


def set_release_status(
    session: Session, release: Release, status: ReleaseStatus, *, actor: Principal
) -> Release:
    current = ReleaseStatus(release.status)
    if status == current:
        return release
    if status not in _TRANSITIONS[current]:
        raise Conflict(
            f"release {release.version} is {current.value} and cannot become {status.value}"
        )
    if status is ReleaseStatus.WITHDRAWN:
        _refuse_if_must_stay_available(release, "withdraw")
    release.status = status.value
    session.flush()
    audit.record(
        session,
        actor=actor.actor,
        action=f"release.{status.value}",
        object_type="release",
        object_id=release.id,
        before={"status": current.value},
        after={"status": status.value},
    )
    return release


def delete_release(session: Session, release: Release, *, actor: Principal) -> None:
    _refuse_if_must_stay_available(release, "delete")
    summary = {
        "product": release.product.name,
        "version": release.version,
        "status": release.status,
    }
    release_id = release.id
    session.delete(release)
    session.flush()
    audit.record(
        session,
        actor=actor.actor,
        action="release.delete",
        object_type="release",
        object_id=release_id,
        before=summary,
    )


def list_releases(session: Session, product_ref: int | str) -> list[Release]:
    product = get_product(session, product_ref)
    return list(
        session.execute(
            select(Release)
            .where(Release.product_id == product.id)
            .order_by(Release.release_date.desc(), Release.id.desc())
        ).scalars()
    )


# --- views -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReleaseSummary:
    count: int = 0
    latest_version: str | None = None
    latest_date: dt.date | None = None


def _summarise(rows: Iterable[tuple[str, dt.date, str, int]]) -> ReleaseSummary:
    """From (version, release_date, status, id) rows: how many, and the newest released one."""
    count, latest = 0, None
    for version, day, status, release_id in rows:
        count += 1
        if status == ReleaseStatus.RELEASED.value and (
            latest is None or (day, release_id) > latest[:2]
        ):
            latest = (day, release_id, version)
    if latest is None:
        return ReleaseSummary(count)
    return ReleaseSummary(count, latest[2], latest[0])


def release_summaries(session: Session, product_ids: list[int]) -> dict[int, ReleaseSummary]:
    """Release count and latest released version per product, read as plain rows (listing
    pages would otherwise load every release as an ORM object)."""
    if not product_ids:
        return {}
    rows: dict[int, list[tuple[str, dt.date, str, int]]] = {pid: [] for pid in product_ids}
    result = session.execute(
        select(
            Release.product_id, Release.version, Release.release_date, Release.status, Release.id
        ).where(Release.product_id.in_(product_ids))
    )
    for product_id, version, day, status, release_id in result:
        rows[product_id].append((version, day, status, release_id))
    return {pid: _summarise(r) for pid, r in rows.items()}


def list_product_views(
    session: Session,
    *,
    limit: int = 100,
    offset: int = 0,
    search: str | None = None,
    on: dt.date | None = None,
) -> tuple[list[ProductOut], int]:
    """A page of products as shown by the API, the pages and the CLI."""
    products, total = list_products(session, limit=limit, offset=offset, search=search)
    summaries = release_summaries(session, [p.id for p in products])
    on = on or today()
    return [product_out(p, on, summaries[p.id]) for p in products], total


def release_out(release: Release, product: Product) -> ReleaseOut:
    return ReleaseOut(
        id=release.id,
        product_id=release.product_id,
        version=release.version,
        release_date=release.release_date,
        kind=ReleaseKind(release.kind),
        status=ReleaseStatus(release.status),
        notes=release.notes,
        available_until=release_available_until(release, product),
    )


def product_out(
    product: Product, on: dt.date | None = None, summary: ReleaseSummary | None = None
) -> ProductOut:
    on = on or today()
    if summary is None:
        summary = _summarise((r.version, r.release_date, r.status, r.id) for r in product.releases)
    return ProductOut(
        id=product.id,
        name=product.name,
        slug=product.slug,
        model_id=product.model_id,
        description=product.description,
        intended_purpose=product.intended_purpose,
        cra_category=CraCategory(product.cra_category),
        placed_on_market=product.placed_on_market,
        expected_use_months=product.expected_use_months,
        support_end=product.support_end,
        support_end_month_year=rules.month_year(product.support_end),
        end_of_sale=product.end_of_sale,
        successor=product.successor.name if product.successor else None,
        support_justification=product.support_justification or {},
        support_status=rules.support_status(product.support_end, on).value,
        documentation_retained_until=rules.documentation_retained_until(
            product.placed_on_market, product.support_end
        ),
        latest_release=summary.latest_version,
        release_count=summary.count,
    )


def product_detail(product: Product) -> ProductDetail:
    releases = sorted(product.releases, key=lambda r: (r.release_date, r.id), reverse=True)
    return ProductDetail(
        **product_out(product).model_dump(),
        releases=[release_out(r, product) for r in releases],
    )


def support_cycles(session: Session, base_url: str) -> list[SupportCycle]:
    """Every product as an endoflife.date cycle; `support` and `eol` are both the CRA support end,
    since a CRA support period is security support (there is no separate 'active' phase)."""
    products = list(session.execute(select(Product).order_by(Product.support_end.desc())).scalars())
    summaries = release_summaries(session, [p.id for p in products])
    cycles = []
    for product in products:
        latest = summaries[product.id]
        cycles.append(
            SupportCycle(
                product=product.name,
                cycle=product.model_id or product.slug,
                releaseDate=product.placed_on_market,
                support=product.support_end,
                eol=product.support_end,
                latest=latest.latest_version,
                latestReleaseDate=latest.latest_date,
                link=f"{base_url.rstrip('/')}/support#{product.slug}",
            )
        )
    return cycles


def record_support_status_changes(session: Session, on: dt.date | None = None) -> int:
    """Audit each product whose support status moved (say into 'ending soon') since last run."""
    from fleetcare.core.auth import system_principal

    on = on or today()
    actor = system_principal("support-status")
    changed = 0
    for product in session.execute(select(Product).order_by(Product.id)).scalars():
        status = rules.support_status(product.support_end, on).value
        if status != product.support_status_seen:
            audit.record(
                session,
                actor=actor.actor,
                action="product.support_status",
                object_type="product",
                object_id=product.id,
                before={"support_status": product.support_status_seen or None},
                after={"support_status": status, "support_end": product.support_end},
            )
            product.support_status_seen = status
            changed += 1
    return changed
