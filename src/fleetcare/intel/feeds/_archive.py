"""Reading JSON members out of a zip archive in memory, one at a time, with limits.

Feed archives come from the network, so they are treated as hostile: the member count and the
declared sizes are checked before the first member is read, each member is read with a hard cap
whatever its header claims, and a member that inflates far beyond its compressed size is refused.
Nothing is extracted to disk.
"""

from __future__ import annotations

import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from fleetcare.intel.feeds.errors import FeedError


@dataclass(frozen=True)
class ZipLimits:
    """How much a feed archive may hold. The defaults leave room for OSV's largest archives."""

    #: OSV's all-ecosystem archive holds well under a million records.
    max_members: int = 2_000_000
    #: The largest real OSV records (distro kernels with long version lists) are a few MiB.
    max_member_bytes: int = 64 * 1024 * 1024
    max_total_bytes: int = 64 * 1024 * 1024 * 1024
    #: Deflated JSON shrinks some 5-50 times; deflate's ceiling is about 1030 times, which is
    #: where a bomb of one member sits.
    max_ratio: int = 200
    #: Small members are not held to the ratio: tiny repetitive files compress extremely well.
    ratio_applies_above: int = 1024 * 1024


def json_members(path: Path, limits: ZipLimits) -> Iterator[tuple[str, bytes]]:
    """Yield (member name, content) for each `*.json` member of the zip archive at `path`."""
    source = str(path)
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise FeedError(f"not a readable zip archive: {exc}", source=source) from None
    with archive:
        everything = archive.infolist()
        if len(everything) > limits.max_members:
            raise FeedError(
                f"the archive has {len(everything)} members, more than the "
                f"{limits.max_members} allowed",
                source=source,
            )
        members = [m for m in everything if not m.is_dir() and m.filename.endswith(".json")]
        declared = sum(m.file_size for m in members)
        if declared > limits.max_total_bytes:
            raise FeedError(
                f"the archive would inflate to {declared} bytes, more than the "
                f"{limits.max_total_bytes} allowed",
                source=source,
            )
        for member in members:
            _check_declared(member, limits, source)
        total = 0
        for member in members:
            content = _read_member(archive, member, limits, source)
            total += len(content)
            if total > limits.max_total_bytes:
                raise FeedError(
                    f"the archive inflates to more than the {limits.max_total_bytes} bytes "
                    "allowed",
                    source=source,
                    record=member.filename,
                )
            yield member.filename, content


def _check_declared(member: zipfile.ZipInfo, limits: ZipLimits, source: str) -> None:
    if member.file_size > limits.max_member_bytes:
        raise FeedError(
            f"the member is {member.file_size} bytes, more than the {limits.max_member_bytes} "
            "allowed",
            source=source,
            record=member.filename,
        )
    if (
        member.file_size > limits.ratio_applies_above
        and member.file_size > max(member.compress_size, 1) * limits.max_ratio
    ):
        raise FeedError(
            f"the member inflates {member.file_size // max(member.compress_size, 1)} times "
            f"(more than {limits.max_ratio}): refusing a likely zip bomb",
            source=source,
            record=member.filename,
        )


def _read_member(
    archive: zipfile.ZipFile, member: zipfile.ZipInfo, limits: ZipLimits, source: str
) -> bytes:
    try:
        with archive.open(member) as stream:
            # One byte over the cap tells a lying header from an honest one.
            content = stream.read(limits.max_member_bytes + 1)
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, RuntimeError, NotImplementedError,
            ValueError) as exc:
        # RuntimeError: encrypted member; NotImplementedError: unknown compression method.
        raise FeedError(f"cannot read the member: {exc}", source=source,
                        record=member.filename) from None
    if len(content) > limits.max_member_bytes:
        raise FeedError(
            f"the member inflates to more than the {limits.max_member_bytes} bytes allowed",
            source=source,
            record=member.filename,
        )
    return content
