"""What can go wrong when reading or downloading a vulnerability feed.

- `FeedError`: a feed file is broken (malformed JSON, a record without an id, a field of the wrong
  type, a date that is not a date, a zip bomb). The message names the file, the record (its id,
  or its position when the id is unknown) and the problem, so an operator can find it.
- `FeedWarning`: something in an otherwise good record was dropped (a CVSS vector that does not
  parse, a score outside 0-10). The record is kept without it. Parsers append warnings to the
  `warnings` list the caller passes; without a list they are logged on `fleetcare.intel.feeds`.
- `DownloadError`: a feed could not be fetched (HTTP error, timeout, response over its size cap,
  connection cut short). Nothing is left behind at the destination path.
"""

from __future__ import annotations

from dataclasses import dataclass

from fleetcare.core.errors import FleetcareError, InvalidInput


class FeedError(InvalidInput):
    """A feed file that cannot be read as its format says."""

    error = "broken vulnerability feed"

    def __init__(self, problem: str, *, source: str, record: str | None = None) -> None:
        where = source if record is None else f"{source}, record {record}"
        super().__init__(
            f"{where}: {problem}",
            detail={"source": source, "record": record, "problem": problem},
        )
        self.source = source
        self.record = record
        self.problem = problem


@dataclass(frozen=True)
class FeedWarning:
    """A part of a record that was dropped while the record itself was kept."""

    source: str
    record: str
    problem: str

    def __str__(self) -> str:
        return f"{self.source}, record {self.record}: {self.problem}"


class DownloadError(FleetcareError):
    """A feed could not be fetched from its publisher."""

    status_code = 502
    error = "feed download failed"
