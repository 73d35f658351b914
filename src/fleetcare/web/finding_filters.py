"""The findings filters of the dashboard, read from a page's query string.

    query, problems = FindingQuery.from_params(request.query_params)
    items, total = matching.list_findings(session, query.criteria(release_id=release.id), ...)
    f"/findings?{query.query_string(page=2)}"     # a link that keeps the other filters

The parameters are named as in `GET /api/v1/findings` (`severity`, `kev`, `epss_min`,
`fix_available`, `include_withdrawn`, `product`, `release`), so a page's address and an API call
filter the same way. A page must not fail on a hand-edited address: a value that cannot be read
is dropped, and `problems` says which, in the words of the filter form.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from fleetcare.matching.service import FindingFilter
from fleetcare.web.query_params import page_number, query_string, read_params

#: Minimum severities offered by the filter form, most serious first.
SEVERITY_CHOICES = ("critical", "high", "medium", "low")
#: EPSS thresholds offered by the form (probability of exploitation in the next 30 days).
EPSS_CHOICES = (0.01, 0.1, 0.5, 0.9)
#: Findings shown per page.
PAGE_SIZE = 100

_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}


def _severity(value: str) -> str:
    if value.lower() not in SEVERITY_CHOICES:
        raise ValueError(f"is not one of {', '.join(SEVERITY_CHOICES)}")
    return value.lower()


def _yes_no(value: str) -> bool:
    lowered = value.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ValueError("is neither yes nor no")


def _probability(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        number = -1.0
    if not 0 <= number <= 1:  # also refuses nan and inf
        raise ValueError("is not a probability between 0 and 1")
    return number


#: Query parameter -> (the filter form's label for it, how to read it).
_READERS: dict[str, tuple[str, Callable[[str], object]]] = {
    "severity": ("Minimum severity", _severity),
    "kev": ("Known exploited (KEV)", _yes_no),
    "epss_min": ("Minimum EPSS", _probability),
    "fix_available": ("Fix available", _yes_no),
    "include_withdrawn": ("Include withdrawn", _yes_no),
    "product": ("Product", str),
    "release": ("Release", str),
    "page": ("Page", page_number),
}


@dataclass(frozen=True)
class FindingQuery:
    """What a findings page was asked to show; every field optional, as on the form."""

    severity: str | None = None  # minimum severity
    kev: bool | None = None
    epss_min: float | None = None
    fix_available: bool | None = None
    include_withdrawn: bool = False
    product: str | None = None  # product slug (the portfolio findings page)
    release: str | None = None  # release version, with `product`
    page: int = 1

    @classmethod
    def from_params(cls, params: Mapping[str, str]) -> tuple[FindingQuery, list[str]]:
        """The filters in `params`, and one message per value that could not be read."""
        values, problems = read_params(params, _READERS)
        if values.get("include_withdrawn") is False:
            del values["include_withdrawn"]
        return cls(**values), problems

    def criteria(
        self, *, product_id: int | None = None, release_id: int | None = None
    ) -> FindingFilter:
        """The matching service's filter for these choices (product and release resolved)."""
        return FindingFilter(
            product_id=product_id,
            release_id=release_id,
            severity=self.severity,
            kev=self.kev,
            epss_min=self.epss_min,
            fix_available=self.fix_available,
            include_withdrawn=self.include_withdrawn,
        )

    @property
    def offset(self) -> int:
        return (self.page - 1) * PAGE_SIZE

    @property
    def narrowed(self) -> bool:
        """Whether anything beyond product and release narrows (or widens) the list."""
        return (
            any(
                getattr(self, name) is not None
                for name in ("severity", "kev", "epss_min", "fix_available")
            )
            or self.include_withdrawn
        )

    def scope_only(self) -> FindingQuery:
        """The same product and release, without any other filter: what "Clear filters" shows."""
        return FindingQuery(product=self.product, release=self.release)

    def query_string(self, **changes: object) -> str:
        """These filters (with `changes`) as a query string, leaving out what is not set."""
        return query_string(self, **changes)
