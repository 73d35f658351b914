"""Imports every capability's tables so that `Base.metadata` knows all of them (migrations)."""

from fleetcare.advisories import models as advisories_models
from fleetcare.core import events as core_events
from fleetcare.core import jobs_models, notify_models
from fleetcare.core import models as core_models
from fleetcare.disclosure import models as disclosure_models
from fleetcare.intel import models as intel_models
from fleetcare.lifecycle import models as lifecycle_models
from fleetcare.matching import models as matching_models
from fleetcare.portfolio import models as portfolio_models
from fleetcare.reporting import models as reporting_models
from fleetcare.sbom import models as sbom_models
from fleetcare.triage import models as triage_models
from fleetcare.updates import models as updates_models

__all__ = [
    "advisories_models",
    "core_events",
    "core_models",
    "disclosure_models",
    "intel_models",
    "jobs_models",
    "lifecycle_models",
    "matching_models",
    "notify_models",
    "portfolio_models",
    "reporting_models",
    "sbom_models",
    "triage_models",
    "updates_models",
]
