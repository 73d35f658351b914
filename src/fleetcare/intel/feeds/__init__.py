"""Vulnerability feeds in, `fleetcare.intel.records` out: the pure parsing layer of `intel`.

One module per source, each turning the publisher's files into the shared record shapes:

| module | source | gives |
|---|---|---|
| `osv` | OSV 1.x records: a file, a directory, osv.dev's all.zip | `VulnerabilityRecord` |
| `nvd` | NVD CVE API 2.0: a CVE, `{"cve": ...}`, an API page, a directory | `VulnerabilityRecord` |
| `cve5` | CVE JSON 5.x (cvelistV5) records | `VulnerabilityRecord` |
| `euvd` | ENISA EUVD API answers | `VulnerabilityRecord` |
| `kev` | CISA's Known Exploited Vulnerabilities catalogue | `KevEntry` |
| `epss` | FIRST's daily EPSS CSV (plain or gzipped) | `EpssScore` |
| `fetch` | downloading all of the above into files | paths |

The record modules share one interface: `parse_record(document)` for a decoded JSON document,
`iter_records(path)` to read a file or directory lazily, `load_records(path)` for a complete
list. The rules they all keep:

- A broken feed raises `FeedError` (an `InvalidInput`) naming the file, the record and what is
  wrong. A batch is all or nothing: `load_records` returns every record or raises, and a
  consumer of `iter_records` must run inside one transaction and roll back on `FeedError`.
- A bad part of a good record (typically a CVSS vector that does not parse) is dropped and
  reported as a `FeedWarning` in the `warnings` list the caller passes (logged if none is).
- Nothing here touches the database or, apart from `fetch`, the network.
"""

from fleetcare.intel.feeds.errors import DownloadError, FeedError, FeedWarning

__all__ = ["DownloadError", "FeedError", "FeedWarning"]
