"""Artifact storage: the same behaviour from the local backend and from the S3 backend.

The S3 backend talks to a real S3 API server on loopback: the one named by FLEETCARE_TEST_S3_URL,
or else moto's server started in this process (moto is a dev dependency)."""

from __future__ import annotations

import hashlib
import io
import os
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from fleetcare.core.errors import InvalidInput, NotFound, TooLarge
from fleetcare.updates.storage import ArtifactStorage, LocalStorage, S3Storage, storage_for

S3_URL = os.environ.get("FLEETCARE_TEST_S3_URL", "")


@pytest.fixture(scope="session")
def s3_url() -> Iterator[str]:
    if S3_URL:
        yield S3_URL
        return
    from moto.server import ThreadedMotoServer

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture(params=["local", "s3"])
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ArtifactStorage]:
    if request.param == "local":
        yield LocalStorage(tmp_path / "artifacts")
        return
    import boto3

    client = boto3.client(
        "s3",
        endpoint_url=request.getfixturevalue("s3_url"),
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    bucket = f"fleetcare-test-{uuid.uuid4().hex[:12]}"
    client.create_bucket(Bucket=bucket)
    yield S3Storage(bucket, "firmware", client=client)


def test_content_addressed_put_open_size_delete(storage: ArtifactStorage) -> None:
    data = b"firmware image " * 10_000
    digest, size = storage.put(io.BytesIO(data), 10**7)
    assert digest == hashlib.sha256(data).hexdigest()
    assert size == len(data)
    assert storage.put(io.BytesIO(data), 10**7) == (digest, size)  # stored once
    assert storage.exists(digest)
    assert storage.size(digest) == len(data)
    with storage.open(digest) as handle:
        handle.seek(1000)
        assert handle.read(15) == data[1000:1015]
    storage.delete(digest)
    assert not storage.exists(digest)
    with pytest.raises(NotFound):
        storage.open(digest)
    with pytest.raises(NotFound):
        storage.size(digest)


def test_limits_and_names_are_enforced(storage: ArtifactStorage) -> None:
    with pytest.raises(TooLarge):
        storage.put(io.BytesIO(b"x" * 2000), 1000)
    with pytest.raises(InvalidInput, match="not a SHA-256"):
        storage.exists("../../etc/passwd")


def test_storage_urls(tmp_path: Path) -> None:
    assert isinstance(storage_for("", tmp_path), LocalStorage)
    assert isinstance(storage_for(f"file://{tmp_path}/x", tmp_path), LocalStorage)
    with pytest.raises(InvalidInput, match="unknown artifact storage"):
        storage_for("ftp://example/x", tmp_path)
    with pytest.raises(InvalidInput, match="no bucket"):
        storage_for("s3://", tmp_path)
