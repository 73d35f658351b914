"""The reference device agent: enrols, checks in, verifies with python-tuf, installs, reports.

    identity = DeviceIdentity.load_or_create(state_dir, "dev-0001")
    client = DeviceClient(httpx.Client(base_url="https://updates.example"), identity)
    client.enrol(factory_secret)                       # once, if the device has a secret
    agent = Agent(client, state_dir, trusted_root=Path("1.root.json").read_bytes())
    outcome = agent.run_once(installed_version="1.0.0")

Every request is signed with the device's Ed25519 key and carries a rising sequence number
(see `fleetcare.updates.devices`). TUF metadata is refreshed with `ngclient.Updater` through a
fetcher that signs its requests; targets are downloaded by the agent itself so that an
interrupted download resumes with an HTTP Range request, and the finished file is checked
against the signed length and hashes before anything is installed. A target whose signed
release counter is not above the installed one is refused (no rollback, even by a server that
offers it). "Installing" copies the files into `<state_dir>/installed/<version>/`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
    load_pem_private_key,
)
from tuf.api.exceptions import DownloadHTTPError, RepositoryError
from tuf.ngclient import FetcherInterface, Updater  # type: ignore[attr-defined]

DEVICE_PREFIX = "/device/v1"
CHUNK = 256 * 1024


class UpdateRefused(Exception):
    """The agent would not install what it was offered; the message says why."""


@dataclass
class DeviceIdentity:
    uid: str
    private_key: Ed25519PrivateKey

    @property
    def public_key_hex(self) -> str:
        return self.private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw).hex()

    @classmethod
    def load_or_create(cls, state_dir: Path, uid: str) -> DeviceIdentity:
        path = state_dir / "device.pem"
        if path.exists():
            key = load_pem_private_key(path.read_bytes(), password=None)
            if not isinstance(key, Ed25519PrivateKey):
                raise ValueError(f"{path} is not an Ed25519 key")
            return cls(uid, key)
        state_dir.mkdir(parents=True, exist_ok=True)
        key = Ed25519PrivateKey.generate()
        path.write_bytes(key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()))
        path.chmod(0o600)
        return cls(uid, key)


class DeviceClient:
    """Signed requests to the device API over an `httpx.Client` (a FastAPI TestClient works)."""

    def __init__(
        self, http: httpx.Client, identity: DeviceIdentity, *, sessions: bool = True
    ) -> None:
        self.http = http
        self.identity = identity
        self._last_seq = 0
        #: Sign check-ins under a session (HMAC) rather than with the key every time.
        self.sessions = sessions
        self._session: tuple[str, bytes, float] | None = None  # id, key, expiry (Unix time)

    def next_seq(self) -> int:
        # Microseconds since the epoch, forced to rise: survives restarts without storing it.
        self._last_seq = max(self._last_seq + 1, time.time_ns() // 1000)
        return self._last_seq

    def signed_headers(self, method: str, target: str, body: bytes) -> dict[str, str]:
        from fleetcare.updates.devices import request_message

        seq = self.next_seq()
        signature = self.identity.private_key.sign(request_message(method, target, seq, body))
        return {
            "X-Fleetcare-Device": self.identity.uid,
            "X-Fleetcare-Seq": str(seq),
            "X-Fleetcare-Signature": signature.hex(),
        }

    def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str] | None = None,
        json_body: Any = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        url = httpx.URL(path, params=params or {})
        target = url.raw_path.decode("ascii")
        body = b"" if json_body is None else json.dumps(json_body).encode()
        sent = {**(headers or {}), **self.signed_headers(method, target, body)}
        if json_body is not None:
            sent["Content-Type"] = "application/json"
        return self.http.request(method, target, content=body, headers=sent)

    def enrol(self, secret: str) -> httpx.Response:
        return self.http.post(
            f"{DEVICE_PREFIX}/enrol",
            json={
                "device": self.identity.uid,
                "secret": secret,
                "public_key": self.identity.public_key_hex,
            },
        )

    def open_session(self) -> httpx.Response:
        """Open a check-in session (signed with the device's key) and keep it."""
        response = self.request("POST", f"{DEVICE_PREFIX}/session")
        if response.status_code == 200:
            answer = response.json()
            expires = dt.datetime.fromisoformat(answer["expires"]).timestamp()
            self._session = (answer["session"], bytes.fromhex(answer["key"]), expires)
        return response

    def checkin(
        self, installed: str | None = None, state: str | None = None, etag: str | None = None
    ) -> httpx.Response:
        params = {k: v for k, v in (("installed", installed), ("state", state)) if v}
        headers = {"If-None-Match": etag} if etag else None
        path = f"{DEVICE_PREFIX}/checkin"
        if not self.sessions:
            return self.request("GET", path, params=params, headers=headers)
        for attempt in range(2):
            if self._session is None or self._session[2] < time.time() + 300:
                opened = self.open_session()
                if opened.status_code != 200:
                    return opened
            response = self._session_request(path, params, headers or {})
            if response.status_code != 401 or attempt:
                return response
            self._session = None  # expired, or ended by the server: open a new one once
        return response

    def _session_request(
        self, path: str, params: dict[str, str], headers: dict[str, str]
    ) -> httpx.Response:
        from fleetcare.updates.devices import request_message

        assert self._session is not None
        session_id, key, _ = self._session
        target = httpx.URL(path, params=params).raw_path.decode("ascii")
        seq = self.next_seq()
        signature = hmac.new(key, request_message("GET", target, seq, b""), hashlib.sha256)
        sent = {
            **headers,
            "X-Fleetcare-Device": self.identity.uid,
            "X-Fleetcare-Seq": str(seq),
            "X-Fleetcare-Session": session_id,
            "X-Fleetcare-Signature": signature.hexdigest(),
        }
        return self.http.get(target, headers=sent)

    def report(self, assignment: int, status: str, detail: str = "") -> httpx.Response:
        return self.request(
            "POST",
            f"{DEVICE_PREFIX}/status",
            json_body={"assignment": assignment, "status": status, "detail": detail},
        )


class _SignedFetcher(FetcherInterface):
    """Lets ngclient fetch metadata through signed requests."""

    def __init__(self, client: DeviceClient) -> None:
        self.client = client

    def _fetch(self, url: str) -> Iterator[bytes]:
        path = httpx.URL(url).raw_path.decode("ascii")
        response = self.client.request("GET", path)
        if response.status_code != 200:
            raise DownloadHTTPError(f"{url}: HTTP {response.status_code}", response.status_code)
        return iter([response.content])


def _refusal(exc: Exception) -> str:
    return f"TUF metadata did not verify: {type(exc).__name__}: {exc}"


class Agent:
    """One device's update loop; `run_once()` is one check-in and whatever it leads to."""

    def __init__(self, client: DeviceClient, state_dir: Path, trusted_root: bytes) -> None:
        self.client = client
        self.state_dir = state_dir
        self.trusted_root = trusted_root
        self.metadata_dir = state_dir / "tuf"
        self.download_dir = state_dir / "downloads"
        self.installed_dir = state_dir / "installed"
        for directory in (self.metadata_dir, self.download_dir, self.installed_dir):
            directory.mkdir(parents=True, exist_ok=True)

    # --- what is installed, kept beside the installed files --------------------------------

    @property
    def installed(self) -> dict[str, Any]:
        path = self.state_dir / "installed.json"
        if not path.exists():
            return {"version": "", "release_counter": 0}
        value: dict[str, Any] = json.loads(path.read_text())
        return value

    def _set_installed(self, version: str, counter: int) -> None:
        path = self.state_dir / "installed.json"
        path.write_text(json.dumps({"version": version, "release_counter": counter}))

    def set_factory_release(self, version: str, counter: int) -> None:
        """Record the release flashed at the factory (before the first check-in)."""
        self._set_installed(version, counter)

    # --- one round -------------------------------------------------------------------------

    def run_once(self) -> str:
        """Check in and act on the answer: 'idle', 'installed <version>', 'downloaded
        <version>, waiting for a maintenance window', 'refused: ...', or 'failed: ...'.
        Outside the rollout's maintenance windows the update is downloaded and verified
        ahead, and installed at the first check-in inside one."""
        response = self.client.checkin(installed=self.installed["version"] or None)
        if response.status_code != 200:
            return f"failed: check-in answered {response.status_code}"
        answer = response.json()
        assignment = answer.get("assignment")
        if not assignment or assignment["install"] != "automatic":
            return "idle"
        try:
            if assignment.get("window") == "closed":
                self._fetch(assignment)
                return f"downloaded {assignment['version']}, waiting for a maintenance window"
            self._install(assignment)
        except UpdateRefused as exc:
            self.client.report(assignment["id"], "failure", f"refused: {exc}")
            return f"refused: {exc}"
        self.client.report(assignment["id"], "success", "")
        return f"installed {assignment['version']}"

    def _updater(self) -> Updater:
        bootstrap = None if (self.metadata_dir / "root.json").exists() else self.trusted_root
        base = str(self.client.http.base_url).rstrip("/")
        return Updater(
            metadata_dir=str(self.metadata_dir),
            metadata_base_url=f"{base}{DEVICE_PREFIX}/tuf/metadata/",
            target_base_url=f"{base}{DEVICE_PREFIX}/tuf/targets/",
            target_dir=str(self.download_dir),
            fetcher=_SignedFetcher(self.client),
            bootstrap=bootstrap,
        )

    def _install(self, assignment: dict[str, Any]) -> None:
        files, new_counter = self._fetch(assignment)
        self.client.report(assignment["id"], "installing")
        target = self.installed_dir / assignment["version"]
        target.mkdir(parents=True, exist_ok=True)
        for file in files:
            shutil.copyfile(file, target / file.name.split(".", 1)[1])
            file.unlink()
        self._set_installed(assignment["version"], new_counter)

    def _fetch(self, assignment: dict[str, Any]) -> tuple[list[Path], int]:
        """Verify the assignment's targets with TUF and download them (what is already here
        and whole is only checked again): the files and the release counter they bring."""
        if assignment.get("status") != "downloading":  # said once, not at each check-in
            self.client.report(assignment["id"], "downloading")
        try:
            updater = self._updater()
            updater.refresh()
        except (RepositoryError, DownloadHTTPError, OSError, ValueError) as exc:
            raise UpdateRefused(
                f"TUF metadata did not verify: {type(exc).__name__}: {exc}"
            ) from exc
        installed_counter = int(self.installed["release_counter"])
        files: list[Path] = []
        new_counter = installed_counter
        for path in assignment["targets"]:
            try:
                info = updater.get_targetinfo(path)
            except (RepositoryError, DownloadHTTPError) as exc:
                raise UpdateRefused(_refusal(exc)) from exc
            if info is None:
                raise UpdateRefused(f"{path} is not a signed target")
            counter = (info.custom or {}).get("release_counter")
            if not isinstance(counter, int) or counter <= installed_counter:
                raise UpdateRefused(
                    f"{path} has release counter {counter}, not above the installed "
                    f"{installed_counter}: a rollback"
                )
            new_counter = max(new_counter, counter)
            files.append(self._download(info))
        return files, new_counter

    def _download(self, info: Any) -> Path:
        """Fetch a target, resuming a partial download, and check it against TUF."""
        sha256 = info.hashes["sha256"]
        directory, _, name = info.path.rpartition("/")
        partial = self.download_dir / f"{sha256}.{name}"
        url = f"{DEVICE_PREFIX}/tuf/targets/{directory}/{sha256}.{name}"
        have = partial.stat().st_size if partial.exists() else 0
        if have > info.length:
            partial.unlink()
            have = 0
        if have < info.length:
            headers = {"Range": f"bytes={have}-"} if have else None
            response = self.client.request("GET", url, headers=headers)
            if response.status_code not in (200, 206):
                raise UpdateRefused(f"download of {info.path} answered {response.status_code}")
            mode = "ab" if response.status_code == 206 else "wb"
            with partial.open(mode) as handle:
                handle.write(response.content[: info.length])
        digest = hashlib.sha256()
        with partial.open("rb") as handle:
            while chunk := handle.read(CHUNK):
                digest.update(chunk)
        if partial.stat().st_size != info.length or digest.hexdigest() != sha256:
            partial.unlink()
            raise UpdateRefused(f"{info.path} does not match its signed length and hash")
        return partial
