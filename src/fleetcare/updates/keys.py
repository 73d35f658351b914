"""Signing keys of the TUF repository, as PEM files in a directory.

`fleetcare keys init DIR` creates the whole key set once:

    DIR/root-1.pem ... root-N.pem   offline root keys; move them away after install
    DIR/targets.pem                 top-level targets (signs the per-product delegations)
    DIR/snapshot.pem                online
    DIR/timestamp.pem               online
    DIR/1.root.json                 root metadata, signed by every root key

`fleetcare keys install DIR` copies 1.root.json into the database and the targets, snapshot and
timestamp keys into the server's key directory (`<data_dir>/tuf-keys`); the root keys are never
read by the server. Per-product delegated keys are created by the server in its key directory
when a product's first release is signed.

All keys are Ed25519.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from securesystemslib.signer import CryptoSigner, SSlibKey  # type: ignore[attr-defined]
from tuf.api.metadata import Metadata, Role, Root  # type: ignore[attr-defined]

from fleetcare.core.errors import Conflict, InvalidInput

ONLINE_ROLES = ("targets", "snapshot", "timestamp")
ROOT_EXPIRY_DAYS = 365


def write_private_key(path: Path, signer: CryptoSigner) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(signer.private_bytes)


def load_signer(path: Path) -> CryptoSigner:
    """The signer for the Ed25519 private key in the PEM file at `path`."""
    try:
        private = load_pem_private_key(path.read_bytes(), password=None)
    except FileNotFoundError:
        raise InvalidInput(f"no key file {path}") from None
    except ValueError as exc:
        raise InvalidInput(f"{path} is not an unencrypted PEM private key: {exc}") from None
    if not isinstance(private, Ed25519PrivateKey):
        raise InvalidInput(f"{path} is not an Ed25519 key")
    return CryptoSigner(private, SSlibKey.from_crypto(private.public_key()))


def init_keys(
    directory: Path, *, root_keys: int = 3, threshold: int = 2, now: dt.datetime | None = None
) -> Path:
    """Create the key set and a signed root (version 1) in `directory`; return the root path."""
    if not 1 <= threshold <= root_keys:
        raise InvalidInput(f"the root threshold must be between 1 and {root_keys}")
    directory.mkdir(parents=True, exist_ok=True)
    clash = [p.name for p in directory.glob("*.pem")]
    if clash:
        raise Conflict(
            f"{directory} already holds keys ({', '.join(sorted(clash))}); use an empty one"
        )
    now = now or dt.datetime.now(dt.UTC)
    root = Root(expires=now.replace(microsecond=0) + dt.timedelta(days=ROOT_EXPIRY_DAYS))
    root_signers = []
    for number in range(1, root_keys + 1):
        signer = CryptoSigner.generate_ed25519()
        write_private_key(directory / f"root-{number}.pem", signer)
        root.add_key(signer.public_key, "root")
        root_signers.append(signer)
    root.roles["root"].threshold = threshold
    for role in ONLINE_ROLES:
        signer = CryptoSigner.generate_ed25519()
        write_private_key(directory / f"{role}.pem", signer)
        root.add_key(signer.public_key, role)
    metadata = Metadata(root)
    for signer in root_signers:
        metadata.sign(signer, append=True)
    path = directory / "1.root.json"
    path.write_bytes(metadata.to_bytes())
    return path


def root_signers(directory: Path) -> list[CryptoSigner]:
    return [load_signer(p) for p in sorted(directory.glob("root-*.pem"))]


def check_root(body: bytes, previous: Metadata[Root] | None = None) -> Metadata[Root]:
    """Parse a root and check it is signed by its own threshold and, if there is one, by the
    previous root's threshold (the rule a TUF client applies on rotation)."""
    try:
        metadata = Metadata[Root].from_bytes(body)
    except Exception as exc:
        raise InvalidInput(f"not a TUF root metadata file: {exc}") from None
    if not isinstance(metadata.signed, Root):
        raise InvalidInput("the file is TUF metadata but not a root")
    try:
        metadata.signed.verify_delegate(Root.type, metadata.signed_bytes, metadata.signatures)
        if previous is not None:
            previous.signed.verify_delegate(Root.type, metadata.signed_bytes, metadata.signatures)
    except Exception as exc:
        raise InvalidInput(f"the root is not signed by enough root keys: {exc}") from None
    if previous is not None and metadata.signed.version != previous.signed.version + 1:
        raise InvalidInput(
            f"the new root must have version {previous.signed.version + 1}, "
            f"not {metadata.signed.version}"
        )
    return metadata


def role_keyids(root: Root, role: str) -> list[str]:
    found: Role = root.roles[role]
    return list(found.keyids)
