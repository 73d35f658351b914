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

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine

HERE = Path(__file__).parent


def _config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(HERE))
    url = engine.url.render_as_string(hide_password=False)
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    config = _config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def downgrade(engine: Engine, revision: str) -> None:
    config = _config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


@lru_cache(maxsize=1)
def head_revision() -> str | None:
    config = Config()
    config.set_main_option("script_location", str(HERE))
    return ScriptDirectory.from_config(config).get_current_head()


def current_and_head(engine: Engine) -> tuple[str | None, str | None]:
    with engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_revision()
    return current, head_revision()
