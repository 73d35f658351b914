"""Connects capabilities that must not import each other directly (it would make a cycle).

`sbom` and `intel` offer hooks; `matching` fills them: a new SBOM is matched at once, a feed
update re-matches what changed, and the store indexes records by matching's keys. Triage and
advisories register theirs, and the device registry of `updates` becomes a device source of
`lifecycle` (devices in the field per product, for notices and end-of-life counts). `create_app`,
the CLI and the job consumer call `connect()` once at start.
"""

from __future__ import annotations


def connect() -> None:
    from fleetcare.advisories import service as advisories_service
    from fleetcare.intel import service as intel_service
    from fleetcare.matching import engine
    from fleetcare.matching import service as matching_service
    from fleetcare.triage import service as triage_service
    from fleetcare.updates import devices

    matching_service.connect()
    intel_service.use_keys(engine.record_keys)
    intel_service.on_changed(matching_service.rematch_hook)
    triage_service.connect()
    advisories_service.connect()
    # The device registry feeds the end-of-life counts and notices; check-in notices already
    # come from lifecycle.device_notice inside updates, so no notice provider is added here.
    devices.connect_lifecycle()
