"""Run the `fleetcare` command in a process of its own, without paying for a new interpreter.

The CLI tests run every command as from a shell: a process of its own with its own
environment, standard input, output and error, and exit status. Starting Python and importing
fleetcare costs about a second per command, which made those tests the slowest third of the
suite. So the commands run in children forked from multiprocessing's fork server, which has
imported `fleetcare.cli` once (`tests.cli_preload`) (the fork server is single-threaded, so forking it is safe,
unlike forking a test worker that runs browser threads). Each child takes the environment it
is given, reads its standard input from a file and writes its output to files, runs the same
`fleetcare.cli.main` as `python -m fleetcare`, and exits with the command's status.
`tests/cli/test_cli.py::test_commands_refuse_an_uninitialised_database` still starts
`python -m fleetcare` itself, which covers the entry point.
"""

from __future__ import annotations

import io
import multiprocessing
import os
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path

_context = multiprocessing.get_context("forkserver")
_context.set_forkserver_preload(["tests.cli_preload"])


def run_fleetcare(
    *args: str, env: Mapping[str, str], stdin: str | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """`fleetcare ARGS` with environment `env`, as `subprocess.run(..., text=True)` gives it."""
    with tempfile.TemporaryDirectory(prefix="fleetcare-cli-") as tmp:
        files = Path(tmp)
        (files / "stdin").write_text(stdin or "", encoding="utf-8")
        child = _context.Process(target=_command, args=(list(args), dict(env), tmp))
        child.start()
        child.join(timeout)
        if child.is_alive():
            child.kill()
            child.join()
            raise subprocess.TimeoutExpired(["fleetcare", *args], timeout)
        return subprocess.CompletedProcess(
            ["fleetcare", *args],
            child.exitcode if child.exitcode is not None else -1,
            (files / "stdout").read_text(encoding="utf-8"),
            (files / "stderr").read_text(encoding="utf-8"),
        )


def _command(args: list[str], env: dict[str, str], tmp: str) -> None:
    """In the child: take the environment and the standard streams, run, exit."""
    os.environ.clear()
    os.environ.update(env)
    written = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
    for fd, name, flags in (
        (0, "stdin", os.O_RDONLY),
        (1, "stdout", written),
        (2, "stderr", written),
    ):
        opened = os.open(os.path.join(tmp, name), flags, 0o600)
        if opened != fd:  # fd 0 is free in a multiprocessing child: open() may return it
            os.dup2(opened, fd)
            os.close(opened)
    sys.stdin = io.TextIOWrapper(open(0, "rb", closefd=False), encoding="utf-8")  # noqa: SIM115
    sys.stdout = io.TextIOWrapper(open(1, "wb", closefd=False), encoding="utf-8")  # noqa: SIM115
    sys.stderr = io.TextIOWrapper(open(2, "wb", closefd=False), encoding="utf-8")  # noqa: SIM115
    sys.argv = ["fleetcare", *args]
    _remake_consoles()
    code = 0
    try:
        from fleetcare.cli import main

        main()
    except SystemExit as exc:
        if isinstance(exc.code, int):
            code = exc.code
        elif exc.code is not None:
            print(exc.code, file=sys.stderr)
            code = 1
    except BaseException:
        import traceback

        traceback.print_exc()
        code = 1
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def _remake_consoles() -> None:
    """rich reads COLUMNS, NO_COLOR and whether it writes to a terminal when a console is made:
    the package's module-level consoles were made in the fork server, so make them afresh in
    the child's environment."""
    from rich.console import Console

    for name, module in list(sys.modules.items()):
        if name.startswith("fleetcare"):
            for value in vars(module).values():
                if isinstance(value, Console):
                    value.__init__(stderr=value.stderr)  # type: ignore[misc]
