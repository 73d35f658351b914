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
    max_members: int = 1_000_000
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
    # zipfile reads the whole central directory into memory when it opens an archive, so its
    # declared size is checked first: a forged directory must not fill memory before any check.
    _check_directory(path, limits, source)
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
                    f"the archive inflates to more than the {limits.max_total_bytes} bytes allowed",
                    source=source,
                    record=member.filename,
                )
            yield member.filename, content


#: The end-of-central-directory record: signature, then (among others) the entry count at
#: offset 10 and the directory size at offset 12. Zip64 archives move both to a second record.
_EOCD = b"PK\x05\x06"
_EOCD_SIZE = 22
_ZIP64_LOCATOR = b"PK\x06\x07"
_ZIP64_EOCD = b"PK\x06\x06"
#: A directory entry is 46 bytes plus its name and extra fields; 1 KiB each is generous.
_DIRECTORY_BYTES_PER_MEMBER = 1024


def _check_directory(path: Path, limits: ZipLimits, source: str) -> None:
    """Refuse an archive whose central directory declares too many entries or too many bytes."""
    try:
        with path.open("rb") as stream:
            size = stream.seek(0, 2)
            tail_start = max(0, size - _EOCD_SIZE - 65535)  # the record ends with a <64 KiB comment
            stream.seek(tail_start)
            tail = stream.read()
            at = tail.rfind(_EOCD)
            if at < 0 or len(tail) - at < _EOCD_SIZE:
                return  # not a zip at all: zipfile will say so
            entries = int.from_bytes(tail[at + 10 : at + 12], "little")
            directory_size = int.from_bytes(tail[at + 12 : at + 16], "little")
            locator = tail.rfind(_ZIP64_LOCATOR, 0, at)
            if locator >= 0 and at - locator == 20:
                stream.seek(int.from_bytes(tail[locator + 8 : locator + 16], "little"))
                record = stream.read(56)
                if record[:4] == _ZIP64_EOCD and len(record) == 56:
                    entries = int.from_bytes(record[32:40], "little")
                    directory_size = int.from_bytes(record[40:48], "little")
    except OSError as exc:
        raise FeedError(f"cannot read the archive: {exc.strerror or exc}", source=source) from None
    if entries > limits.max_members:
        raise FeedError(
            f"the archive has {entries} members, more than the {limits.max_members} allowed",
            source=source,
        )
    if directory_size > limits.max_members * _DIRECTORY_BYTES_PER_MEMBER:
        raise FeedError(
            f"the archive's directory is {directory_size} bytes, too large for "
            f"{limits.max_members} members",
            source=source,
        )


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
    except (
        zipfile.BadZipFile,
        zlib.error,
        EOFError,
        OSError,
        RuntimeError,
        NotImplementedError,
        ValueError,
    ) as exc:
        # RuntimeError: encrypted member; NotImplementedError: unknown compression method.
        raise FeedError(
            f"cannot read the member: {exc}", source=source, record=member.filename
        ) from None
    if len(content) > limits.max_member_bytes:
        raise FeedError(
            f"the member inflates to more than the {limits.max_member_bytes} bytes allowed",
            source=source,
            record=member.filename,
        )
    return content
