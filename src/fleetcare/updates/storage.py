"""Content-addressed storage for firmware artifacts, keyed by the SHA-256 of their bytes.

    store = storage_for(settings)
    digest, size = store.put(stream)          # the same bytes twice are stored once
    with store.open(digest) as handle: ...    # seekable, for HTTP Range requests

The local filesystem backend is the default (`<data_dir>/artifacts/ab/abcdef...`). An
S3-compatible backend is selected by `FLEETCARE_ARTIFACT_STORAGE_URL=s3://bucket/prefix`
(endpoint from `AWS_ENDPOINT_URL`, credentials the usual AWS way); it needs boto3, which is
not a dependency of fleetcare: install it beside. It is tested against a local S3 server
(moto) when `FLEETCARE_TEST_S3_URL` names one.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path
from typing import IO, Any, BinaryIO, Protocol

from fleetcare.core.errors import InvalidInput, NotFound, TooLarge

_DIGEST = re.compile(r"^[0-9a-f]{64}$")
CHUNK = 1024 * 1024


class ArtifactStorage(Protocol):
    def put(self, stream: IO[bytes], max_bytes: int) -> tuple[str, int]:
        """Store the bytes read from `stream`; return their SHA-256 (hex) and length."""

    def open(self, digest: str) -> BinaryIO:
        """A seekable handle on the stored bytes; NotFound if there are none."""

    def size(self, digest: str) -> int: ...

    def exists(self, digest: str) -> bool: ...

    def delete(self, digest: str) -> None: ...


def check_digest(digest: str) -> str:
    if not _DIGEST.match(digest):
        raise InvalidInput(f"{digest!r} is not a SHA-256 digest (64 lower-case hex digits)")
    return digest


class LocalStorage:
    """Files under `root`, fanned out by the first two hex digits of their digest."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, digest: str) -> Path:
        check_digest(digest)
        return self.root / digest[:2] / digest

    def put(self, stream: IO[bytes], max_bytes: int) -> tuple[str, int]:
        self.root.mkdir(parents=True, exist_ok=True)
        hasher = hashlib.sha256()
        size = 0
        fd, tmp = tempfile.mkstemp(dir=self.root, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as handle:
                while chunk := stream.read(CHUNK):
                    size += len(chunk)
                    if size > max_bytes:
                        raise TooLarge(
                            f"the artifact is larger than the limit of {max_bytes} bytes"
                        )
                    hasher.update(chunk)
                    handle.write(chunk)
            digest = hasher.hexdigest()
            target = self._path(digest)
            target.parent.mkdir(exist_ok=True)
            # Same digest, same bytes: an existing file is kept and the upload dropped.
            if not target.exists():
                os.replace(tmp, target)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        return digest, size

    def open(self, digest: str) -> BinaryIO:
        try:
            return self._path(digest).open("rb")
        except FileNotFoundError:
            raise NotFound(f"no stored artifact with SHA-256 {digest}") from None

    def size(self, digest: str) -> int:
        try:
            return self._path(digest).stat().st_size
        except FileNotFoundError:
            raise NotFound(f"no stored artifact with SHA-256 {digest}") from None

    def exists(self, digest: str) -> bool:
        return self._path(digest).is_file()

    def delete(self, digest: str) -> None:
        self._path(digest).unlink(missing_ok=True)


class S3Storage:
    """Objects `<prefix>/<sha256>` in an S3-compatible bucket."""

    def __init__(self, bucket: str, prefix: str, client: Any = None) -> None:
        if client is None:
            try:
                import boto3  # type: ignore[import-untyped,import-not-found,unused-ignore]
            except ImportError:
                raise InvalidInput(
                    "S3 artifact storage needs boto3: 'pip install boto3' beside fleetcare"
                ) from None
            client = boto3.client("s3")
        self.client = client
        self.bucket = bucket
        self.prefix = prefix.strip("/")

    def _key(self, digest: str) -> str:
        check_digest(digest)
        return f"{self.prefix}/{digest}" if self.prefix else digest

    def put(self, stream: IO[bytes], max_bytes: int) -> tuple[str, int]:
        hasher = hashlib.sha256()
        size = 0
        with tempfile.TemporaryFile() as spool:
            while chunk := stream.read(CHUNK):
                size += len(chunk)
                if size > max_bytes:
                    raise TooLarge(f"the artifact is larger than the limit of {max_bytes} bytes")
                hasher.update(chunk)
                spool.write(chunk)
            digest = hasher.hexdigest()
            if not self.exists(digest):
                spool.seek(0)
                self.client.upload_fileobj(spool, self.bucket, self._key(digest))
        return digest, size

    def open(self, digest: str) -> BinaryIO:
        """The object copied into a local temporary file (seekable for Range requests)."""
        if not self.exists(digest):
            raise NotFound(f"no stored artifact with SHA-256 {digest}")
        handle = tempfile.TemporaryFile()  # noqa: SIM115 - the caller closes it
        self.client.download_fileobj(self.bucket, self._key(digest), handle)
        handle.seek(0)
        return handle

    def size(self, digest: str) -> int:
        try:
            head = self.client.head_object(Bucket=self.bucket, Key=self._key(digest))
        except Exception as exc:
            if _missing(exc):
                raise NotFound(f"no stored artifact with SHA-256 {digest}") from None
            raise
        return int(head["ContentLength"])

    def exists(self, digest: str) -> bool:
        try:
            self.size(digest)
        except NotFound:
            return False
        return True

    def delete(self, digest: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self._key(digest))


def _missing(exc: Exception) -> bool:
    response = getattr(exc, "response", None)
    code = str((response or {}).get("Error", {}).get("Code", ""))
    return code in ("404", "NoSuchKey", "NotFound")


def storage_for(url: str, data_dir: Path) -> ArtifactStorage:
    """The storage named by `url` ('' or 'file:///path' local, 's3://bucket/prefix')."""
    if not url:
        return LocalStorage(data_dir / "artifacts")
    if url.startswith("file://"):
        return LocalStorage(Path(url.removeprefix("file://")))
    if url.startswith("s3://"):
        bucket, _, prefix = url.removeprefix("s3://").partition("/")
        if not bucket:
            raise InvalidInput(f"no bucket in {url!r}; use s3://bucket/prefix")
        return S3Storage(bucket, prefix)
    raise InvalidInput(f"unknown artifact storage URL {url!r}; use file:///path or leave it empty")
