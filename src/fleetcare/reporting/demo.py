"""Demo vulnerability reports and Article 14 cases for `fleetcare demo`, so that the inbox, the
deadline board and a case with one stage filed show something real at once.

Times are relative to now: one report is overdue for acknowledgement (red on the board), a
confirmed exploited vulnerability had its early warning filed and its notification due within
two days, and a second exploited-vulnerability proposal waits for the team to confirm it.
Nothing is sent: the demo has no mail server or webhooks unless they were configured.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from fleetcare.core.auth import Principal
from fleetcare.core.db import utcnow
from fleetcare.core.settings import Settings
from fleetcare.disclosure import service as disclosure
from fleetcare.disclosure.models import Report
from fleetcare.disclosure.rules import ReportStatus
from fleetcare.disclosure.schemas import CreditIn, LinkIn, ReportIn, StatusChange
from fleetcare.reporting import service
from fleetcare.reporting.schemas import ConfirmIn, SubmitIn

_H = dt.timedelta(hours=1)
_D = dt.timedelta(days=1)

#: (report, how long ago it arrived, where the team took it, their messages)
REPORTS: list[tuple[dict[str, Any], dt.timedelta, list[ReportStatus], list[tuple[str, bool]]]] = [
    (
        {
            "title": "Debug telnet shell reachable on port 2323",
            "product": "Gateway GX-500",
            "affected_version": "24.10.2-gx5",
            "description": "A busybox telnetd listens on TCP 2323 on the LAN side after a "
            "factory reset and accepts the root account without a password.",
            "steps_to_reproduce": "1. Factory-reset the gateway.\n2. telnet 192.168.1.1 2323\n"
            "3. Log in as root with an empty password.",
            "impact": "Full control of the gateway from any device on the LAN.",
            "source": "researcher",
            "reporter_name": "Mira Castell",
            "reporter_email": "mira@research.example",
            "preferred_channel": "email",
            "wants_credit": True,
        },
        9 * _D,
        [],
        [],
    ),
    (
        {
            "title": "App API returns other households' heating schedules",
            "product": "Thermostat T3",
            "affected_version": "3.1.0",
            "description": "GET /v2/schedules/{id} on the cloud API does not check that the "
            "schedule belongs to the caller; ids are sequential.",
            "impact": "Anyone with an account can read when other homes are empty.",
            "source": "customer",
            "reporter_name": "Jonas Brandt",
            "reporter_contact": "Signal +49 170 0000000",
            "preferred_channel": "other",
        },
        6 * _D,
        [ReportStatus.ACKNOWLEDGED, ReportStatus.TRIAGING],
        [
            (
                "Thank you, we can reproduce this and are working out which versions are affected.",
                False,
            ),
            ("Confirmed on staging; the fix is an ownership check in the schedule service.", True),
        ],
    ),
    (
        {
            "title": "BLE pairing accepts a downgraded legacy pairing",
            "product": "Smart Plug SP1",
            "affected_version": "1.2.6",
            "description": "The plug accepts LE legacy pairing with Just Works when the phone "
            "offers no Secure Connections, allowing a passive eavesdropper to derive the key.",
            "source": "importer",
            "reporter_name": "Nordic Devices Import AB",
            "reporter_email": "psirt@import.example",
            "preferred_channel": "email",
        },
        20 * _D,
        [ReportStatus.TRIAGING, ReportStatus.ACCEPTED, ReportStatus.FIX_IN_PROGRESS],
        [("Accepted. A firmware update that requires Secure Connections is in testing.", False)],
    ),
    (
        {
            "title": "Stored XSS in the firewall's rule description field",
            "product": "Edge Firewall FW-200",
            "affected_version": "7.0.5",
            "description": "A rule description containing <img src=x onerror=alert(1)> runs "
            "script in the admin UI of every administrator who opens the rule list.",
            "source": "researcher",
            "reporter_name": "Tomás Reyes",
            "reporter_email": "tomas@sec.example",
            "preferred_channel": "email",
            "wants_credit": True,
            "credit_as": "Tomás Reyes (Example Security Labs)",
        },
        75 * _D,
        [ReportStatus.TRIAGING, ReportStatus.ACCEPTED, ReportStatus.FIXED, ReportStatus.DISCLOSED],
        [("Fixed in 7.2.0 and published today. Thank you!", False)],
    ),
    (
        {
            "title": "Smart meter gateway exposes SNMP community 'public'",
            "product": "Smart Meter Gateway SMG-1",
            "description": "A CSIRT forwarded a scan result: SNMP v2c with community 'public' "
            "answers on the WAN interface of some units.",
            "source": "csirt",
            "reporter_name": "CERT (forwarded)",
            "reporter_email": "cert@csirt.example",
            "preferred_channel": "email",
        },
        2 * _D,
        [ReportStatus.ACKNOWLEDGED],
        [("Received, thank you; we are checking the affected firmware range.", False)],
    ),
    (
        {
            "title": "Tracker band can be located by anyone",
            "product": "Kids Tracker Band",
            "description": "The band's location API needs no authentication.",
            "source": "customer",
            "preferred_channel": "status_page",
        },
        12 * _D,
        [ReportStatus.TRIAGING, ReportStatus.REJECTED],
        [
            (
                "The endpoint you found is the public demo server with simulated data; production "
                "requires a paired account. Thank you for checking!",
                False,
            )
        ],
    ),
]


def load_demo(session: Session, *, actor: Principal, settings: Settings) -> list[str]:
    """Reports in several states and Article 14 cases; nothing if reports exist already."""
    if session.execute(select(Report.id).limit(1)).first() is not None:
        return ["demo reports already loaded"]
    now = utcnow()
    for data, age, path, messages in REPORTS:
        received = now - age
        report, _token = disclosure.submit_report(
            session,
            ReportIn.model_validate(data),
            via="web" if data["source"] in ("researcher", "customer") else "team",
            settings=settings,
            received_at=received,
            now=received,
        )
        step = received + 4 * _H
        for index, status in enumerate(path):
            disclosure.change_status(
                session,
                report,
                StatusChange(status=status),
                actor=actor,
                settings=settings,
                now=step,
            )
            if index < len(messages):
                text, internal = messages[index]
                disclosure.add_message(
                    session,
                    report,
                    text,
                    internal=internal,
                    actor=actor,
                    settings=settings,
                    now=step + _H,
                )
            step += min(age / (len(path) + 1), 10 * _D)
        if report.wants_credit and report.status == ReportStatus.DISCLOSED.value:
            disclosure.add_credit(
                session,
                report,
                CreditIn(name="Example Security Labs", kind="coordinator"),
                actor=actor,
            )
        if data["product"] == "Edge Firewall FW-200":
            disclosure.add_link(
                session,
                report,
                LinkIn(kind="release", ref="edge-firewall-fw-200@7.2.0"),
                actor=actor,
            )
    # A robot's submission, held back by the honeypot.
    disclosure.submit_report(
        session,
        ReportIn(description="Cheap watches!!! visit our shop", website="http://spam.example"),
        via="web",
        settings=settings,
        quarantine_reason="the hidden honeypot field was filled in",
    )
    lines = [f"demo reports loaded: {len(REPORTS)} in several states, 1 in quarantine"]
    proposed, _deliveries = service.propose_cases(session, settings=settings, now=now)
    if proposed:
        case = proposed[0]
        aware = now - 30 * _H
        service.confirm_case(
            session,
            case,
            ConfirmIn(
                aware_at=aware,
                awareness_evidence="CISA added the vulnerability to the KEV catalogue and our "
                "SOC saw exploitation attempts against units in the field.",
            ),
            actor=actor,
            settings=settings,
            now=aware + 2 * _H,
        )
        early = service.get_document(case, "early_warning")
        if not early.content.get("member_states"):
            service.save_document(
                session, case, "early_warning", {"member_states": ["DE", "AT", "NL"]}, actor=actor
            )
        service.submit_document(
            session,
            case,
            "early_warning",
            SubmitIn(reference="ENISA-SRP-DEMO-0001", submitted_at=aware + 20 * _H),
            actor=actor,
            settings=settings,
        )
        lines.append(
            f"demo Article 14 cases: {case.reference} open with its early warning filed, "
            f"{len(proposed) - 1} more proposed for the team to confirm"
        )
    return lines
