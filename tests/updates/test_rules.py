"""Rollout rules without a database: waves, verdicts, downgrades, user choices, windows."""

from __future__ import annotations

import datetime as dt

import pytest

from fleetcare.updates import rules
from fleetcare.updates.rules import SecurityChoice, WaveCounts, WaveVerdict


@pytest.mark.parametrize(
    ("counts", "verdict"),
    [
        (WaveCounts(size=0), WaveVerdict.ADVANCE),
        (WaveCounts(size=100, success=94), WaveVerdict.WAIT),
        (WaveCounts(size=100, success=95), WaveVerdict.ADVANCE),
        (WaveCounts(size=100, success=10, failure=5), WaveVerdict.WAIT),
        (WaveCounts(size=100, success=10, failure=6), WaveVerdict.PAUSE),
        (WaveCounts(size=100, success=96, failure=4), WaveVerdict.ADVANCE),
        (WaveCounts(size=3, failure=1), WaveVerdict.PAUSE),
    ],
)
def test_wave_verdict(counts, verdict):
    assert rules.wave_verdict(counts, success_threshold=95, failure_threshold=5) is verdict


def test_percentage_waves_spread_devices_by_a_stable_position():
    waves: list[tuple[int | None, list[str]]] = [(10, []), (50, []), (100, [])]
    placed = [rules.wave_for(rules.rollout_position(7, f"d{i}"), [], waves) for i in range(5000)]
    shares = [placed.count(w) / 5000 for w in range(3)]
    assert shares[0] == pytest.approx(0.10, abs=0.02)
    assert shares[1] == pytest.approx(0.40, abs=0.03)
    assert rules.rollout_position(7, "d1") == rules.rollout_position(7, "d1")
    assert rules.rollout_position(7, "d1") != rules.rollout_position(8, "d1")


def test_group_waves_and_devices_no_wave_names():
    waves: list[tuple[int | None, list[str]]] = [(None, ["canary"]), (None, ["lab"])]
    assert rules.wave_for(0.5, ["canary"], waves) == 0
    assert rules.wave_for(0.5, ["lab", "x"], waves) == 1
    assert rules.wave_for(0.5, [], waves) == 1


@pytest.mark.parametrize(
    ("target", "installed", "ok"), [(3, 2, True), (2, 2, False), (1, 2, False)]
)
def test_never_a_downgrade(target, installed, ok):
    assert rules.may_offer(target, installed) is ok


TODAY = dt.date(2026, 11, 29)


@pytest.mark.parametrize(
    ("device", "device_until", "customer", "customer_until", "expected"),
    [
        ("automatic", None, None, None, (SecurityChoice.AUTOMATIC, None)),
        ("opt_out", None, None, None, (SecurityChoice.OPT_OUT, None)),
        ("automatic", None, "opt_out", None, (SecurityChoice.OPT_OUT, None)),
        (
            "automatic",
            dt.date(2026, 12, 5),
            None,
            None,
            (SecurityChoice.POSTPONED, dt.date(2026, 12, 5)),
        ),
        (
            "automatic",
            dt.date(2026, 12, 5),
            "automatic",
            dt.date(2026, 12, 9),
            (SecurityChoice.POSTPONED, dt.date(2026, 12, 9)),
        ),
        ("automatic", dt.date(2026, 11, 1), None, None, (SecurityChoice.AUTOMATIC, None)),
    ],
)
def test_security_choice(device, device_until, customer, customer_until, expected):
    assert rules.security_choice(device, device_until, customer, customer_until, TODAY) == expected


def test_postponement_is_bounded():
    assert rules.check_postponement(TODAY + dt.timedelta(days=30), TODAY, 30) is None
    assert "at most 30 days" in (
        rules.check_postponement(TODAY + dt.timedelta(days=31), TODAY, 30) or ""
    )
    assert "after today" in (rules.check_postponement(TODAY, TODAY, 30) or "")


def test_maintenance_windows():
    monday_night = [{"days": [0], "start": "22:00", "end": "02:00"}]
    assert rules.in_window([], dt.datetime(2026, 11, 30, 12, 0, tzinfo=dt.UTC))
    assert rules.in_window(monday_night, dt.datetime(2026, 11, 30, 23, 0, tzinfo=dt.UTC))
    assert rules.in_window(monday_night, dt.datetime(2026, 12, 1, 1, 59, tzinfo=dt.UTC))
    assert not rules.in_window(monday_night, dt.datetime(2026, 12, 1, 2, 0, tzinfo=dt.UTC))
    assert not rules.in_window(monday_night, dt.datetime(2026, 11, 30, 21, 59, tzinfo=dt.UTC))
    assert rules.check_windows([{"start": "25:00", "end": "01:00"}])
    assert rules.check_windows([{"days": [7], "start": "01:00", "end": "02:00"}])
