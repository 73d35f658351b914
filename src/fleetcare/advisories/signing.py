"""OpenPGP signatures of published advisories, made by the `gpg` binary in a GnuPG home of its own.

    signer = Signer(Path("var/openpgp"), "Example Devices GmbH CSAF <psirt@example.com>")
    fingerprint = signer.ensure_key()        # an Ed25519 signing key, made once
    armored = signer.sign(data)              # detached, ASCII-armoured (.asc)
    signer.public_key()                      # the key for /.well-known/csaf/openpgp/

Why the gpg binary: the CSAF distribution rules ask for signatures that `gpg --verify` accepts,
and GnuPG itself makes exactly those; the Python OpenPGP libraries either wrap the same binary
(python-gnupg, one more dependency for a thin layer) or lag behind current `cryptography`
(PGPy). The home directory is private to fleetcare (mode 0700) and holds nothing else.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from fleetcare.core.errors import FleetcareError


class SigningUnavailable(FleetcareError):
    status_code = 503


class Signer:
    def __init__(self, home: Path, user_id: str) -> None:
        self.home = home
        self.user_id = user_id

    def _gpg(self, *args: str, data: bytes | None = None) -> bytes:
        gpg = shutil.which("gpg")
        if gpg is None:
            raise SigningUnavailable("gpg is not installed; it is needed to sign advisories")
        self.home.mkdir(parents=True, exist_ok=True)
        os.chmod(self.home, 0o700)
        result = subprocess.run(  # noqa: S603 - fixed arguments, no shell
            [gpg, "--homedir", str(self.home), "--batch", "--yes", "--no-tty", *args],
            input=data,
            capture_output=True,
            timeout=60,
            check=False,
        )
        if result.returncode != 0:
            message = result.stderr.decode("utf-8", "replace").strip().splitlines()
            raise SigningUnavailable(
                "gpg failed: " + (message[-1] if message else f"exit {result.returncode}")
            )
        return result.stdout

    def fingerprint(self) -> str | None:
        listing = self._gpg("--with-colons", "--list-secret-keys").decode()
        for line in listing.splitlines():
            if line.startswith("fpr:"):
                return line.split(":")[9]
        return None

    def ensure_key(self) -> str:
        found = self.fingerprint()
        if found:
            return found
        self._gpg(
            "--passphrase",
            "",
            "--pinentry-mode",
            "loopback",
            "--quick-generate-key",
            self.user_id,
            "ed25519",
            "sign",
            "never",
        )
        made = self.fingerprint()
        if made is None:
            raise SigningUnavailable("gpg made no key")
        return made

    def sign(self, data: bytes) -> str:
        fingerprint = self.ensure_key()
        return self._gpg(
            "--local-user", fingerprint, "--armor", "--detach-sign", "--output", "-", data=data
        ).decode("ascii")

    def public_key(self) -> str:
        fingerprint = self.ensure_key()
        return self._gpg("--armor", "--export", fingerprint).decode("ascii")

    def stop_agent(self) -> None:
        """End the gpg-agent that key generation started for this home (tests, shutdown)."""
        gpgconf = shutil.which("gpgconf")
        if gpgconf and self.home.is_dir():
            subprocess.run(  # noqa: S603
                [gpgconf, "--homedir", str(self.home), "--kill", "gpg-agent"],
                capture_output=True,
                timeout=30,
                check=False,
            )
