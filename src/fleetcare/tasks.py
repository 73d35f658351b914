"""Imports every capability's background tasks so that a consumer knows all of them."""

from fleetcare.core import tasks as core_tasks
from fleetcare.intel import tasks as intel_tasks
from fleetcare.portfolio import tasks as portfolio_tasks

__all__ = ["core_tasks", "intel_tasks", "portfolio_tasks"]
