"""A rollout of a simulated fleet in three waves with injected failures (the benchmark runs the
same at 10,000 devices: bench/rollout_simulation.py)."""

from __future__ import annotations

from fleetcare.updates import rollouts, simulation
from fleetcare.updates.schemas import RolloutIn, WaveIn
from tests.updates.conftest import ACTOR, register


def _three_waves(database) -> int:  # type: ignore[no-untyped-def]
    register(database, [f"sim-{i:04}" for i in range(400)])
    waves = [WaveIn(percent=p, success_threshold=95, failure_threshold=5) for p in (5, 30, 100)]
    with database.session() as session:
        rollout = rollouts.create(
            session,
            RolloutIn(name="sim", product="gateway", version="2.0.0", waves=waves),
            actor=ACTOR,
        )
        rollouts.start(session, rollout.id, actor=ACTOR)
        session.commit()
        return rollout.id


def test_failures_in_the_second_wave_pause_the_rollout(database, settings, fleet):
    rollout_id = _three_waves(database)
    with database.session() as session:
        run = simulation.run_rollout(session, rollout_id, [0.0, 0.25, 0.0], seed=3)
        out = rollouts.rollout_out(session, rollouts.get(session, rollout_id))
    assert run.status == "paused"
    assert out.current_wave == 1
    assert "threshold of 5%" in out.pause_reason
    assert out.waves[0].counts == {"success": out.waves[0].size}
    failures = out.waves[1].counts["failure"]
    assert failures * 100 > 5 * out.waves[1].size  # it tripped ...
    assert (failures - 1) * 100 <= 5 * out.waves[1].size  # ... on the first failure past it
    assert out.waves[2].counts == {"pending": out.waves[2].size}  # the third wave never opened


def test_a_healthy_fleet_finishes_all_three_waves(database, settings, fleet):
    rollout_id = _three_waves(database)
    with database.session() as session:
        run = simulation.run_rollout(session, rollout_id, [0.0, 0.01, 0.02], seed=5)
    assert run.status == "finished"
    assert sum(sum(c.values()) for c in run.per_wave.values()) == 400


def test_simulated_devices_over_http_register_check_in_and_report(client, database, fleet, tokens):
    from fleetcare.core.auth import Role

    registered = simulation.simulate_fleet(
        client, tokens.values[Role.RELEASE], "gateway", 12, installed="1.0.0", rounds=1
    )
    assert registered == {"check-in 200": 12}
    with database.session() as session:
        rollout = rollouts.create(
            session, RolloutIn(name="r", product="gateway", version="2.0.0"), actor=ACTOR
        )
        rollouts.start(session, rollout.id, actor=ACTOR)
        session.commit()

    def include_new_devices() -> None:  # what the job does every minute
        with database.session() as session:
            rollouts.tick(session)
            session.commit()

    outcome = simulation.simulate_fleet(
        client,
        tokens.values[Role.RELEASE],
        "gateway",
        5,
        installed="1.0.0",
        rounds=2,
        failure_rate=0.0,
        prefix="late",
        after_registration=include_new_devices,
    )
    assert outcome == {"check-in 200": 10, "success": 5}
    with database.session() as session:
        out = rollouts.rollout_out(session, rollouts.get(session, rollout.id))
    assert out.waves[0].counts == {"pending": 12, "success": 5}
