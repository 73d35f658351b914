"""Test-suite speed only: FastAPI (0.165, pinned) builds each route's request handler on an
app's first request — 0.3-0.45 s for fleetcare's ~220 routes — and the suite makes an app per
test, about 1,500 of them. The handler of a route included from the same router with the same
prefix is the same for every app (it reads the app's state from the request at request time),
so this keeps the first one built per process and hands it to the next apps.

Kept safe by keying on the route object itself (held, so that its id is never reused) and on
the router and prefix it was included with; routes made per app (`/healthz`, `/readyz`,
`/metrics` close over their app's database) are new objects and are built for their own app.
Not used outside the tests: a server makes one app per process.
"""

from __future__ import annotations

from typing import Any

from fastapi import routing

_built: dict[tuple[int, int, str], tuple[Any, Any]] = {}


def install() -> None:
    """Patch FastAPI's builder; a FastAPI without it (another version) is left alone."""
    included = getattr(routing, "_IncludedRouter", None)
    original = getattr(included, "_build_effective_context", None)
    if included is None or original is None:
        return

    def build(self: Any, route: Any) -> Any:
        context = self.include_context
        if context.dependency_overrides_provider is not None and getattr(
            context.dependency_overrides_provider, "dependency_overrides", None
        ):
            return original(self, route)  # an app with overrides builds its own
        key = (id(route), id(context.included_router), context.prefix)
        kept = _built.get(key)
        if kept is not None and kept[0] is route:
            return kept[1]
        built = original(self, route)
        _built[key] = (route, built)
        return built

    included._build_effective_context = build
