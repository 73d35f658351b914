"""Helpers shared by the `fleetcare` command and the capabilities' own command groups.

Every command prints through `out`/`err`, exits with `fail()` (code 2, one line) on input a user
can fix, opens the database with `session_scope()` (refusing an uninitialised or outdated
schema), and offers `--json` through `JsonOpt` and `print_json()`.
"""

from __future__ import annotations

import getpass
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, Any, TypeVar

import typer
from pydantic import BaseModel, ValidationError
from rich.console import Console
from rich.table import Table
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from fleetcare.core.auth import Principal, system_principal
from fleetcare.core.db import Database
from fleetcare.core.errors import FleetcareError
from fleetcare.core.settings import Settings, SettingsError, get_settings

out = Console()
err = Console(stderr=True)
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
T = TypeVar("T", bound=BaseModel)


def fail(message: str) -> typer.Exit:
    err.print(f"[red]error:[/red] {message}", highlight=False, markup=True, soft_wrap=True)
    return typer.Exit(code=2)


def cli_actor() -> Principal:
    try:
        login = getpass.getuser()
    except (KeyError, OSError):
        login = "unknown"
    return system_principal(login, via="cli")


def settings() -> Settings:
    try:
        return get_settings()
    except SettingsError as exc:
        raise fail(str(exc)) from None


@contextmanager
def database() -> Iterator[Database]:
    db = Database(settings().resolved_database_url)
    try:
        yield db
    finally:
        db.dispose()


@contextmanager
def session_scope(*, write: bool = True) -> Iterator[Session]:
    """A session whose changes are committed on success; user errors exit with code 2."""
    from fleetcare.core import migrations

    with database() as db:
        try:
            current, head = migrations.current_and_head(db.engine)
        except OperationalError as exc:
            raise fail(
                f"cannot open the database ({exc.orig}); is FLEETCARE_DATABASE_URL right, "
                "and did you run 'fleetcare init'?"
            ) from None
        if current != head:
            raise fail("the database is not initialised or not up to date: run 'fleetcare init'")
        try:
            with db.session() as session:
                yield session
                if write:
                    session.commit()
        except FleetcareError as exc:
            raise fail(exc.message) from None


def parse_model(model: type[T], values: dict[str, Any]) -> T:
    try:
        return model.model_validate({k: v for k, v in values.items() if v is not None})
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "input"
        raise fail(f"{field}: {first['msg']}") from None


def print_json(value: Any) -> None:
    if isinstance(value, BaseModel):
        text = value.model_dump_json(indent=2)
    elif isinstance(value, list) and value and isinstance(value[0], BaseModel):
        text = "[" + ",".join(v.model_dump_json(indent=2) for v in value) + "]"
    else:
        text = json.dumps(value, indent=2, default=str)
    sys.stdout.write(text + "\n")


def table(
    title: str,
    columns: list[str],
    rows: list[list[Any]],
    styles: dict[int, Callable[[Any], str]] | None = None,
) -> None:
    grid = Table(title=title, title_justify="left")
    for column in columns:
        grid.add_column(column)
    for row in rows:
        cells = []
        for i, cell in enumerate(row):
            text = "" if cell is None else str(cell)
            if styles and i in styles:
                text = f"[{styles[i](cell)}]{text}[/]"
            cells.append(text)
        grid.add_row(*cells)
    out.print(grid)
