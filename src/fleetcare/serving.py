"""The HTTP protocol `fleetcare serve` runs uvicorn with: uvicorn's own httptools protocol, except
that a steady-state device check-in (`GET /device/v1/checkin`) is handed to the device hot path
(`fleetcare.updates.fastpath.DeviceHotPath.begin`) as soon as its headers are parsed, and its
answer is written to the connection in one piece when the batch that records it has committed.

Why below ASGI: every device polls, so a fleet's check-ins are most of the requests a server
sees. Through ASGI each one costs a task, a chain of coroutines (uvicorn's proxy-headers
middleware, the app, the hot path) and two ASGI messages turned into two socket writes; that
was as much CPU as the check-in's SQL (measured with py-spy, see the README's Performance
section). Here the request is parsed by uvicorn as usual (same scope, same limits, same
keep-alive and pipelining rules) and only the step from the parsed request to the app is
skipped. Everything the hot path does not take in the steady state — another path, a device
whose key is not in memory yet, a replay, a flood, a row another writer holds — goes on to
the app exactly as it would under `uvicorn --http httptools`; the answers are the same bytes
(the tests compare them). The native check-in's answer does not depend on the client's address
or scheme, so skipping the proxy-headers middleware changes nothing; DDI polls, whose links
carry the scheme and host, keep going through the app (and its hot path there).

Written against uvicorn's `HttpToolsProtocol` (pinned in pyproject.toml): it overrides one
method, `_start_asgi_task`, and keeps the cycle's bookkeeping (`response_complete`,
`keep_alive`, `on_response`) as uvicorn's own `send` does. Run any ASGI app with it — one
without a hot path is served exactly as by httptools:

    uvicorn --http fleetcare.serving:DeviceHttpProtocol ...

Set `FLEETCARE_DEVICE_HOT_PATH=0` to send every request through the app.
"""

from __future__ import annotations

from typing import Any

from uvicorn.protocols.http.httptools_impl import (
    STATUS_LINE,
    HttpToolsProtocol,
    RequestResponseCycle,
)

from fleetcare.updates.fastpath import CHECKIN_PATH, Answer, DeviceHotPath

#: For `uvicorn.run(http=...)` and `uvicorn --http`.
PROTOCOL = "fleetcare.serving:DeviceHttpProtocol"


def find_hot_path(app: Any) -> DeviceHotPath | None:
    """The device hot path of the app uvicorn serves, under any middleware that keeps the
    app it wraps in `.app` (as uvicorn's own do); None for another app."""
    for _ in range(10):
        hot_path = getattr(app, "hot_path", None)
        if isinstance(hot_path, DeviceHotPath):
            return hot_path
        app = getattr(app, "app", None)
        if app is None:
            break
    return None


class DeviceHttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with steady-state check-ins answered without ASGI."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.hot_path = find_hot_path(self.app)

    def _start_asgi_task(self, cycle: RequestResponseCycle, app: Any) -> None:
        hot_path = self.hot_path
        scope: Any = cycle.scope  # uvicorn's HTTPScope, a dict
        if (
            hot_path is not None
            and app is self.app  # not uvicorn's 503 app for a concurrency limit
            and scope["path"] == CHECKIN_PATH
            and scope["method"] == "GET"
            and hot_path.begin(scope, lambda answer: self._answered(cycle, app, answer))
        ):
            return
        super()._start_asgi_task(cycle, app)

    def _answered(self, cycle: RequestResponseCycle, app: Any, answer: Answer | None) -> None:
        """Write the hot path's answer as uvicorn's `send` would (its default headers, then
        ours; `connection: close` when the connection ends), or hand the request to the app."""
        if answer is None:
            super()._start_asgi_task(cycle, app)
            return
        if cycle.disconnected:  # the device left; its check-in is recorded all the same
            return
        status, headers, body = answer
        content = [STATUS_LINE[status]]
        for name, value in cycle.default_headers:
            content += [name, b": ", value, b"\r\n"]
        for name, value in headers:
            content += [name, b": ", value, b"\r\n"]
        if not cycle.keep_alive:
            content.append(b"connection: close\r\n")
        content += [b"\r\n", body]
        cycle.response_started = cycle.response_complete = True
        cycle.transport.write(b"".join(content))
        if not cycle.keep_alive:
            cycle.transport.close()
        cycle.on_response()
