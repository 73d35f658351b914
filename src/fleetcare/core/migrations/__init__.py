"""Alembic migrations, run by `fleetcare init`, at `serve` start, and by the tests.

    upgrade(engine)              # to the newest revision
    downgrade(engine, "-1")      # one step back
    current_and_head(engine)     # ('a1b2…', 'a1b2…') when up to date

The revision scripts live in `versions/`; write a new one with
`alembic -c src/fleetcare/core/migrations/alembic.ini revision --autogenerate -m "..."`.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine

if TYPE_CHECKING:
    from alembic.config import Config

HERE = Path(__file__).parent
#: The newest revision in `versions/`. Every CLI command checks the schema against it, and
#: importing alembic to find it cost each command 0.3 s; a test keeps it equal to alembic's
#: head, so a new revision script must update it.
HEAD = "0008"


def _config(engine: Engine | None = None) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(HERE))
    if engine is not None:
        url = engine.url.render_as_string(hide_password=False)
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    from alembic import command

    config = _config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def downgrade(engine: Engine, revision: str) -> None:
    from alembic import command

    config = _config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


@lru_cache(maxsize=1)
def head_revision() -> str | None:
    """The head as alembic computes it from the revision scripts (what `HEAD` must equal)."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_config()).get_current_head()


def current_and_head(engine: Engine) -> tuple[str | None, str | None]:
    """The database's revision (None before the first migration) and the newest one."""
    with engine.connect() as connection:
        current = None
        if inspect(connection).has_table("alembic_version"):
            current = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    return current, HEAD
