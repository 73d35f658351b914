"""Imports every capability's tables so that `Base.metadata` knows all of them (migrations)."""

from fleetcare.core import jobs_models
from fleetcare.core import models as core_models
from fleetcare.portfolio import models as portfolio_models

__all__ = ["core_models", "jobs_models", "portfolio_models"]
