"""Loaded once by the fork server of `tests.cli_runner`: what every command would load or
prepare on its own (the CLI, the migrations it checks the schema against, the database
dialects, the ORM's mappers), so that each forked command starts with it done."""

from __future__ import annotations

import sqlalchemy.dialects.postgresql.psycopg
import sqlalchemy.dialects.sqlite.pysqlite
from sqlalchemy.orm import configure_mappers

import fleetcare.cli
from fleetcare.core import migrations

configure_mappers()
migrations.head_revision()  # what `fleetcare init` runs into

__all__ = ["fleetcare", "sqlalchemy"]
