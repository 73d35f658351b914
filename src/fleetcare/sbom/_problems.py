"""Collecting problems while reading, and typed access to parsed JSON (or JSON-shaped XML).

A format reader keeps going after a problem where it safely can, so that one upload reports every
broken purl at once; `Problems.raise_if_any()` then raises a single `SbomError`. The accessors
return None (or an empty list) for a value of the wrong type after recording where it was.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from fleetcare.sbom.errors import MAX_PROBLEMS, Problem, SbomError

T = TypeVar("T")


def join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def _kind(value: Any) -> str:
    return {
        dict: "an object",
        list: "an array",
        str: "a string",
        bool: "a boolean",
        int: "a number",
        float: "a number",
        type(None): "null",
    }.get(type(value), type(value).__name__)


class Problems:
    def __init__(self) -> None:
        self.found: list[Problem] = []
        self.total = 0

    def add(self, path: str, message: str) -> None:
        self.total += 1
        if len(self.found) < MAX_PROBLEMS:
            self.found.append(Problem(path, message))

    def raise_if_any(self) -> None:
        if self.found:
            raise SbomError(self.found, total=self.total)

    def check(self, path: str, checker: Callable[..., T], *args: Any) -> T | None:
        """`checker(*args)`, or None after recording its ValueError at `path`."""
        try:
            return checker(*args)
        except ValueError as exc:
            self.add(path, str(exc))
            return None

    # --- typed access to JSON-shaped documents ------------------------------------------

    def expect_object(self, value: Any, path: str) -> dict[str, Any] | None:
        if isinstance(value, dict):
            return value
        self.add(path, f"expected an object, found {_kind(value)}")
        return None

    def object(self, node: dict[str, Any], key: str, path: str) -> dict[str, Any] | None:
        value = node.get(key)
        if value is None:
            return None
        return self.expect_object(value, join(path, key))

    def array(self, node: dict[str, Any], key: str, path: str) -> list[Any]:
        value = node.get(key)
        if value is None:
            return []
        if isinstance(value, list):
            return value
        self.add(join(path, key), f"expected an array, found {_kind(value)}")
        return []

    def objects(
        self, node: dict[str, Any], key: str, path: str
    ) -> list[tuple[str, dict[str, Any]]]:
        """The objects in array `key`, each with its path; other items are problems."""
        where = join(path, key)
        found = []
        for index, item in enumerate(self.array(node, key, path)):
            item_path = join(where, index)
            checked = self.expect_object(item, item_path)
            if checked is not None:
                found.append((item_path, checked))
        return found

    def string(self, node: dict[str, Any], key: str, path: str) -> str | None:
        """A string value trimmed; None when absent, empty or of the wrong type (recorded)."""
        value = node.get(key)
        if value is None:
            return None
        if isinstance(value, str):
            return value.strip() or None
        self.add(join(path, key), f"expected a string, found {_kind(value)}")
        return None

    def strings(self, node: dict[str, Any], key: str, path: str) -> list[str]:
        where = join(path, key)
        found = []
        for index, item in enumerate(self.array(node, key, path)):
            if isinstance(item, str):
                found.append(item)
            else:
                self.add(join(where, index), f"expected a string, found {_kind(item)}")
        return found

    def string_or_strings(self, node: dict[str, Any], key: str, path: str) -> list[str]:
        """A value that the format allows as one string or an array of them."""
        value = node.get(key)
        if isinstance(value, str):
            return [value]
        return self.strings(node, key, path)
