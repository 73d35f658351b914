"""A sending worker killed with SIGKILL in the middle of a milestone, then a restart: every
customer is reached, nobody is announced the milestone twice by the scheduler, and the only
message that reaches a receiver twice is the one in flight at the kill — with the same delivery
id, so that the receiver can drop it."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import threading
from collections import Counter

from fleetcare.lifecycle import service
from tests.lifecycle.conftest import make_fleet
from tests.notify_support import WebhookReceiver

SENDER = """
import datetime as dt, sys
from fleetcare.core.db import Database
from fleetcare.core.settings import get_settings
from fleetcare.lifecycle import service
settings = get_settings()
db = Database(settings.resolved_database_url)
with db.session() as session:
    service.send_notice(session, int(sys.argv[1]), settings, batch=5)
"""


def test_a_killed_sender_resumes_without_announcing_twice(database, eol_settings, tmp_path):
    receiver = WebhookReceiver()
    try:
        fleet = make_fleet(
            database,
            eol_settings,
            customers=20,
            devices_each=1,
            channels=("webhook",),
            webhook_url=receiver.url,
            support_end=dt.date.today() + dt.timedelta(days=150),
            milestones=(6,),
        )
        # Every customer here shares one receiver, which can check one secret only; it accepts
        # every call (204) and the test counts them by delivery id.
        receiver.statuses = [204] * 100
        with database.session() as session:
            [notice_id] = service.schedule_notices(session, eol_settings)
            session.commit()
        env = {
            **os.environ,
            "FLEETCARE_DATABASE_URL": database.url,
            "FLEETCARE_DATA_DIR": str(tmp_path),
            "FLEETCARE_SECRET_KEY": eol_settings.secret_key,
            "FLEETCARE_TIMEZONE": eol_settings.timezone,
        }
        killed = threading.Event()
        sender: subprocess.Popen[bytes] | None = None

        class KillAtEighth(list):  # type: ignore[type-arg]
            def append(self, call):  # type: ignore[no-untyped-def]
                super().append(call)
                if len(self) == 8 and sender is not None and not killed.is_set():
                    os.kill(sender.pid, signal.SIGKILL)  # while it waits for this answer
                    killed.set()

        receiver.calls = KillAtEighth()
        sender = subprocess.Popen([sys.executable, "-c", SENDER, str(notice_id)], env=env)
        sender.wait(timeout=60)
        assert killed.is_set(), "the sender finished before it could be killed"
        assert len(receiver.calls) == 8

        # The restart: the scheduler finds the milestone announced; the sweep resumes sending.
        with database.session() as session:
            later = dt.datetime.now(dt.UTC)
            assert service.schedule_notices(session, eol_settings, later) == []
            service.send_notice(session, notice_id, eol_settings)
            resumed = len(receiver.calls)
            past_claim = later + service.STUCK_AFTER + dt.timedelta(minutes=1)
            service.send_notice(session, notice_id, eol_settings, now=lambda: past_claim)
        assert fleet.product_id
    finally:
        receiver.stop()
    ids = Counter(call.headers["x-fleetcare-delivery"] for call in receiver.calls)
    customers = {call.json["customer"] for call in receiver.calls}
    assert customers == {f"c{n}" for n in range(1, 21)}
    twice = [delivery for delivery, count in ids.items() if count > 1]
    assert len(twice) == 1, ids  # only the call in flight at the kill, same delivery id
    assert resumed < len(receiver.calls)  # the claimed batch waited for the claim to expire
    with database.session() as session:
        states = Counter(d.status for d in service.list_deliveries(session))
    assert states == {"sent": 20}
