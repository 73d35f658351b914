"""The one error the SBOM layer raises: `SbomError`, for any file it will not read.

Reading an SBOM either returns a complete model or raises `SbomError`; nothing in between. The
message names the first problem and where it is (`components[12].purl: invalid purl ...`), and
`problems` lists every problem found (up to `MAX_PROBLEMS`), so a release manager can fix a
generator's output in one go. `detail` carries the same list for the API's JSON error body.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from fleetcare.core.errors import InvalidInput

#: More problems than this are counted, not listed: one broken generator can produce thousands.
MAX_PROBLEMS = 50


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an SBOM: where (a JSON-style path, "" for the whole file), and what."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class SbomError(InvalidInput):
    """The file is not an SBOM fleetcare can read: malformed, hostile, too big or inconsistent."""

    error = "invalid SBOM"

    def __init__(self, problems: Sequence[Problem], *, total: int | None = None) -> None:
        if not problems:
            raise ValueError("SbomError needs at least one problem")
        self.problems = tuple(problems)
        self.total = max(total or 0, len(self.problems))
        message = str(self.problems[0])
        if self.total > 1:
            others = self.total - 1
            message += f" (and {others} more problem{'s' if others > 1 else ''})"
        super().__init__(
            message,
            detail={
                "problems": [{"path": p.path, "message": p.message} for p in self.problems],
                "total": self.total,
            },
        )

    @classmethod
    def at(cls, path: str, message: str) -> SbomError:
        """An error with a single problem."""
        return cls([Problem(path, message)])
