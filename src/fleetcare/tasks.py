"""Imports every capability's background tasks so that a consumer knows all of them."""

from fleetcare.core import notify as notify_tasks
from fleetcare.core import tasks as core_tasks
from fleetcare.disclosure import tasks as disclosure_tasks
from fleetcare.intel import tasks as intel_tasks
from fleetcare.lifecycle import tasks as lifecycle_tasks
from fleetcare.portfolio import tasks as portfolio_tasks
from fleetcare.reporting import tasks as reporting_tasks
from fleetcare.triage import tasks as triage_tasks
from fleetcare.updates import tasks as updates_tasks

__all__ = [
    "core_tasks",
    "disclosure_tasks",
    "intel_tasks",
    "lifecycle_tasks",
    "notify_tasks",
    "portfolio_tasks",
    "reporting_tasks",
    "triage_tasks",
    "updates_tasks",
]
