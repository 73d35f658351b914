"""FIRST's daily EPSS scores (CSV, plain or gzipped) into `EpssScore`s.

EPSS estimates how likely a CVE is to be exploited in the next 30 days; triage uses it to order
findings. The daily file that `fetch.download_epss` saves looks like::

    #model_version:v2025.03.14,score_date:2025-08-25T12:55:00Z
    cve,epss,percentile
    CVE-1999-0001,0.0107,0.77216

Read it lazily (the file has some 300,000 rows) or whole::

    from fleetcare.intel.feeds import epss

    for score in epss.iter_scores(Path("epss_scores-current.csv.gz")):
        ...                             # in one transaction; FeedError means roll back
    scores = epss.read_scores(path)     # all rows, or FeedError

The leading comment line is optional; when present its model version and score date are put on
every score. A row with a malformed CVE id, a number that is not one or a value outside 0-1 is
a `FeedError` naming the line. Gzip is recognised by its magic bytes, not the file name.
"""

from __future__ import annotations

import datetime as dt
import gzip
import io
import re
import zlib
from collections.abc import Iterable, Iterator
from pathlib import Path

from fleetcare.intel.feeds.errors import FeedError
from fleetcare.intel.records import EpssScore

__all__ = ["iter_scores", "parse_lines", "read_scores"]

_CVE_ID = re.compile(r"CVE-[0-9]{4}-[0-9]{4,19}")
_GZIP_MAGIC = b"\x1f\x8b"
_HEADER = ("cve", "epss", "percentile")


def iter_scores(path: Path) -> Iterator[EpssScore]:
    """The scores in the EPSS CSV file at `path`, one row at a time."""
    source = str(path)
    try:
        with path.open("rb") as raw:
            compressed = raw.read(2) == _GZIP_MAGIC
            raw.seek(0)
            if compressed:
                with gzip.GzipFile(fileobj=raw) as unzipped:
                    inflated = io.TextIOWrapper(unzipped, encoding="utf-8", newline="")
                    yield from parse_lines(inflated, source=source)
            else:
                plain = io.TextIOWrapper(raw, encoding="utf-8", newline="")
                yield from parse_lines(plain, source=source)
    except (OSError, EOFError, zlib.error, UnicodeDecodeError) as exc:
        # gzip raises OSError (BadGzipFile) for a damaged header, EOFError for a cut-off file.
        raise FeedError(f"cannot read the file: {exc}", source=source) from None


def read_scores(path: Path) -> list[EpssScore]:
    """All scores at `path`, or `FeedError` and none of them."""
    return list(iter_scores(path))


def parse_lines(lines: Iterable[str], *, source: str = "<memory>") -> Iterator[EpssScore]:
    """The scores in the lines of an EPSS CSV file; `source` names it in errors."""
    model_version = ""
    scored_on: dt.date | None = None
    header_seen = False
    for number, raw_line in enumerate(lines, start=1):
        line = raw_line.strip()
        if not line:
            continue
        where = f"line {number}"
        if line.startswith("#"):
            if header_seen:
                raise FeedError("a comment line after the header", source=source, record=where)
            model_version, scored_on = _comment(line[1:], source, where)
            continue
        if not header_seen:
            if tuple(field.strip().lower() for field in line.split(",")) != _HEADER:
                raise FeedError(
                    f"the header must be 'cve,epss,percentile', not {line[:60]!r}",
                    source=source,
                    record=where,
                )
            header_seen = True
            continue
        yield _row(line, source, where, scored_on, model_version)
    if not header_seen:
        raise FeedError("no 'cve,epss,percentile' header: not an EPSS file", source=source)


def _comment(comment: str, source: str, where: str) -> tuple[str, dt.date | None]:
    fields = dict(part.split(":", 1) for part in comment.split(",") if ":" in part)
    model_version = fields.get("model_version", "").strip()
    score_date = fields.get("score_date", "").strip()
    if not score_date:
        return model_version, None
    try:
        return model_version, dt.date.fromisoformat(score_date[:10])
    except ValueError:
        raise FeedError(
            f"score_date {score_date[:40]!r} is not a date", source=source, record=where
        ) from None


def _row(
    line: str, source: str, where: str, scored_on: dt.date | None, model_version: str
) -> EpssScore:
    fields = line.split(",")
    if len(fields) != 3:
        raise FeedError(
            f"expected 3 fields (cve,epss,percentile), found {len(fields)}",
            source=source,
            record=where,
        )
    cve_id = fields[0].strip()
    if not _CVE_ID.fullmatch(cve_id):
        raise FeedError(f"{cve_id[:40]!r} is not a CVE id", source=source, record=where)
    values = []
    for name, field in zip(("epss", "percentile"), fields[1:], strict=True):
        try:
            value = float(field)
        except ValueError:
            raise FeedError(
                f"{name} {field[:40]!r} is not a number", source=source, record=where
            ) from None
        if not 0.0 <= value <= 1.0:
            raise FeedError(f"{name} {value} is not in 0-1", source=source, record=where)
        values.append(value)
    return EpssScore(cve_id, values[0], values[1], scored_on, model_version)
