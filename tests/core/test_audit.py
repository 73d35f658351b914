from __future__ import annotations

from sqlalchemy import text

from fleetcare.core import audit
from fleetcare.core.auth import Role, system_principal

ACTOR = system_principal("tests", via="cli")


def _write_events(database, count: int) -> None:
    with database.session() as session:
        for i in range(count):
            audit.record(session, actor=ACTOR.actor, action="test.event", object_type="thing",
                         object_id=i, after={"n": i, "label": "ä€"})
        session.commit()


def test_intact_chain_verifies(database):
    _write_events(database, 5)
    with database.session() as session:
        result = audit.verify(session)
    assert result.ok
    assert result.events == 5
    assert len(result.head_hash) == 64


def test_edited_event_is_named(database):
    _write_events(database, 5)
    with database.engine.begin() as conn:
        conn.execute(text("UPDATE audit_events SET actor = 'someone else' WHERE seq = 3"))
    with database.session() as session:
        result = audit.verify(session)
    assert not result.ok
    assert result.first_bad_seq == 3
    assert "edited" in result.problem


def test_deleted_event_is_named(database):
    _write_events(database, 5)
    with database.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_events WHERE seq = 2"))
    with database.session() as session:
        result = audit.verify(session)
    assert not result.ok
    assert result.first_bad_seq == 2
    assert "missing" in result.problem


def test_events_cut_off_the_end_are_detected(database):
    _write_events(database, 4)
    with database.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_events WHERE seq = 4"))
    with database.session() as session:
        result = audit.verify(session)
    assert not result.ok
    assert "cut off" in result.problem


def test_rolled_back_change_leaves_no_event(database):
    with database.session() as session:
        audit.record(session, actor="x", action="test.event", object_type="thing", object_id=1)
        session.rollback()
    with database.session() as session:
        assert audit.verify(session).events == 0


def test_state_changes_through_the_api_are_audited(client, tokens):
    admin = tokens.headers(Role.ADMIN)
    client.post("/api/v1/products", headers=admin, json={
        "name": "Audited Hub", "placed_on_market": "2026-01-01", "support_end": "2032-01-01"})
    events = client.get("/api/v1/audit", headers=admin, params={"object_type": "product"}).json()
    assert events[0]["action"] == "product.create"
    assert events[0]["actor"] == "admin@example.test (token 1)"
    assert events[0]["summary"]["after"]["name"] == "Audited Hub"
    verified = client.get("/api/v1/audit/verify", headers=admin).json()
    assert verified["ok"] is True


def test_logins_and_logouts_are_audited(database):
    from fleetcare.core import auth
    from fleetcare.core.auth import Role

    with database.session() as session:
        user = auth.create_user(session, email="who@example.test", role=Role.VIEWER,
                                password="a long enough password", actor=ACTOR)
        _web, clear = auth.start_web_session(session, user, hours=1)
        auth.end_web_session(session, clear)
        session.commit()
        actions = [e.action for e in audit.list_events(session, object_type="user")]
    assert actions == ["session.end", "session.start", "user.create"]
