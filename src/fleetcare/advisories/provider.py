"""The files of a CSAF trusted provider directory, from the published TLP:WHITE advisories.

    files = ProviderFiles(base_url, publisher, fingerprint, entries)
    files.metadata()      # /.well-known/csaf/provider-metadata.json
    files.index_txt()     # white/index.txt: one path per line
    files.changes_csv()   # white/changes.csv: "path","time", newest first
    files.rolie_feed()    # white/csaf-feed-tlp-white.json

File names follow CSAF 2.0 section 5.1 (the tracking id in lower case, every character outside
`+-a-z0-9` replaced by `_`, then `.json`) and live under the year of the initial release.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

WELL_KNOWN = "/.well-known/csaf"
FEED_NAME = "csaf-feed-tlp-white.json"


def file_name(tracking_id: str) -> str:
    return re.sub(r"[^+\-a-z0-9]", "_", tracking_id.lower()) + ".json"


def directory_path(tracking_id: str, initial_release: dt.datetime) -> str:
    """The path under white/: '<year>/<file name>'."""
    return f"{initial_release.year}/{file_name(tracking_id)}"


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class PublishedEntry:
    tracking_id: str
    title: str
    initial_release: dt.datetime
    current_release: dt.datetime

    @property
    def path(self) -> str:
        return directory_path(self.tracking_id, self.initial_release)


@dataclass(frozen=True)
class Publisher:
    name: str
    namespace: str
    contact: str = ""


class ProviderFiles:
    def __init__(
        self,
        base_url: str,
        publisher: Publisher,
        fingerprint: str | None,
        entries: list[PublishedEntry],
    ) -> None:
        self.base = base_url.rstrip("/")
        self.publisher = publisher
        self.fingerprint = fingerprint
        self.entries = sorted(entries, key=lambda e: e.current_release, reverse=True)

    def url(self, path: str) -> str:
        return f"{self.base}{WELL_KNOWN}/{path}"

    def last_updated(self) -> dt.datetime:
        if self.entries:
            return self.entries[0].current_release
        return dt.datetime(2000, 1, 1, tzinfo=dt.UTC)

    def metadata(self) -> dict[str, Any]:
        publisher: dict[str, Any] = {
            "category": "vendor",
            "name": self.publisher.name,
            "namespace": self.publisher.namespace,
        }
        if self.publisher.contact:
            publisher["contact_details"] = self.publisher.contact
        metadata: dict[str, Any] = {
            "canonical_url": self.url("provider-metadata.json"),
            "distributions": [
                {
                    "directory_url": self.url("white/"),
                    "rolie": {
                        "feeds": [
                            {
                                "summary": "TLP:WHITE advisories",
                                "tlp_label": "WHITE",
                                "url": self.url(f"white/{FEED_NAME}"),
                            }
                        ]
                    },
                }
            ],
            "last_updated": _iso(self.last_updated()),
            "list_on_CSAF_aggregators": True,
            "metadata_version": "2.0",
            "mirror_on_CSAF_aggregators": True,
            "publisher": publisher,
            "role": "csaf_trusted_provider",
        }
        if self.fingerprint:
            metadata["public_openpgp_keys"] = [
                {
                    "fingerprint": self.fingerprint,
                    "url": self.url(f"openpgp/{self.fingerprint}.asc"),
                }
            ]
        return metadata

    def index_txt(self) -> str:
        return "".join(f"{e.path}\n" for e in sorted(self.entries, key=lambda e: e.path))

    def changes_csv(self) -> str:
        return "".join(f'"{e.path}","{_iso(e.current_release)}"\n' for e in self.entries)

    def rolie_feed(self) -> dict[str, Any]:
        entries = []
        for e in self.entries:
            url = self.url(f"white/{e.path}")
            entries.append(
                {
                    "id": e.tracking_id,
                    "title": e.title,
                    "link": [
                        {"rel": "self", "href": url},
                        {"rel": "hash", "href": f"{url}.sha256"},
                        {"rel": "hash", "href": f"{url}.sha512"},
                        {"rel": "signature", "href": f"{url}.asc"},
                    ],
                    "published": _iso(e.initial_release),
                    "updated": _iso(e.current_release),
                    "content": {"type": "application/json", "src": url},
                    "format": {
                        "schema": "https://docs.oasis-open.org/csaf/csaf/v2.0/csaf_json_schema.json",
                        "version": "2.0",
                    },
                }
            )
        return {
            "feed": {
                "id": f"{self.publisher.namespace}-csaf-feed-tlp-white",
                "title": f"{self.publisher.name} CSAF feed (TLP:WHITE)",
                "link": [{"rel": "self", "href": self.url(f"white/{FEED_NAME}")}],
                "category": [
                    {"scheme": "urn:ietf:params:rolie:category:information-type", "term": "csaf"}
                ],
                "updated": _iso(self.last_updated()),
                "entry": entries,
            }
        }
