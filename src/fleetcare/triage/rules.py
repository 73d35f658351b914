"""Rules of a triage decision, without I/O: what a complete decision holds, SLA clocks, and
when a change of the vulnerability record re-opens a decision.

    problems = decision_problems(VexStatus.NOT_AFFECTED, justification=None, impact="", ...)
    due = sla_due(first_seen, "critical", DEFAULT_SLA)     # SlaDue(decision=..., fix=...)
    reason = material_change(stored_fingerprint, current_fingerprint)

The completeness rules are the CISA minimum requirements for VEX: not_affected needs a
justification or an impact statement, affected needs an action statement; fleetcare adds that
fixed names the release that fixes the finding.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class VexStatus(StrEnum):
    UNDER_INVESTIGATION = "under_investigation"
    AFFECTED = "affected"
    NOT_AFFECTED = "not_affected"
    FIXED = "fixed"


class Justification(StrEnum):
    """The five justifications of CISA's VEX status justifications (also OpenVEX and CSAF)."""

    COMPONENT_NOT_PRESENT = "component_not_present"
    VULNERABLE_CODE_NOT_PRESENT = "vulnerable_code_not_present"
    VULNERABLE_CODE_NOT_IN_EXECUTE_PATH = "vulnerable_code_not_in_execute_path"
    VULNERABLE_CODE_CANNOT_BE_CONTROLLED_BY_ADVERSARY = (
        "vulnerable_code_cannot_be_controlled_by_adversary"
    )
    INLINE_MITIGATIONS_ALREADY_EXIST = "inline_mitigations_already_exist"


@dataclass(frozen=True)
class DecisionProblem:
    field: str
    problem: str


def decision_problems(
    status: VexStatus,
    *,
    justification: Justification | None,
    impact_statement: str,
    action_statement: str,
    fixed_release: str | None,
) -> list[DecisionProblem]:
    """What is missing or contradictory in a decision; empty when it is complete."""
    problems: list[DecisionProblem] = []
    if status is VexStatus.NOT_AFFECTED:
        if justification is None and not impact_statement.strip():
            problems.append(
                DecisionProblem(
                    "justification",
                    "not_affected needs a justification or an impact statement saying why",
                )
            )
    elif justification is not None:
        problems.append(
            DecisionProblem("justification", "a justification belongs only to not_affected")
        )
    if status is VexStatus.AFFECTED and not action_statement.strip():
        problems.append(
            DecisionProblem(
                "action_statement",
                "affected needs an action statement telling users what to do",
            )
        )
    if status is VexStatus.FIXED and not fixed_release:
        problems.append(
            DecisionProblem("fixed_release", "fixed needs the release that fixes the finding")
        )
    if status is not VexStatus.FIXED and fixed_release:
        problems.append(DecisionProblem("fixed_release", "only a fixed decision names a release"))
    return problems


# --- SLA --------------------------------------------------------------------------------------

#: Days from first seen to a decision and to a fix, per severity (the issue's defaults).
DEFAULT_SLA: dict[str, int] = {"critical": 7, "high": 30, "medium": 90, "low": 180}
#: Severities without a score get the slowest clock rather than none.
UNRATED = "low"


@dataclass(frozen=True)
class SlaDue:
    decision: dt.datetime
    fix: dt.datetime


def sla_due(first_seen: dt.datetime, severity: str, days: dict[str, int]) -> SlaDue:
    allowed = days.get(severity) or days.get(UNRATED) or DEFAULT_SLA[UNRATED]
    due = first_seen + dt.timedelta(days=allowed)
    # The same number of days for both clocks: deciding is due first, the fix by the same time
    # at the latest, so a decision that comes on the last day still leaves a fix overdue.
    return SlaDue(decision=due, fix=due)


def overdue_kind(status: VexStatus, due: SlaDue, now: dt.datetime, *, decided: bool) -> str | None:
    """'decision' when nobody decided in time, 'fix' when an affected finding is still not
    fixed in time, else None. not_affected and fixed findings are never overdue."""
    if status in (VexStatus.NOT_AFFECTED, VexStatus.FIXED):
        return None
    if not decided or status is VexStatus.UNDER_INVESTIGATION:
        return "decision" if now > due.decision else None
    return "fix" if now > due.fix else None


# --- re-opening -------------------------------------------------------------------------------


def fingerprint(*, kev: bool, match_reason: str, fixed_version: str | None) -> dict[str, Any]:
    """What a decision was taken on: the parts of the record whose change re-opens it."""
    return {"kev": kev, "match_reason": match_reason, "fixed_version": fixed_version or ""}


def material_change(decided_on: dict[str, Any], now: dict[str, Any]) -> str | None:
    """Why a decision must be looked at again, or None when the record changed only in ways
    that do not bear on it (summary text, EPSS, references)."""
    if now.get("kev") and not decided_on.get("kev"):
        return "added to the CISA KEV catalogue"
    if now.get("match_reason") != decided_on.get("match_reason"):
        return "the affected range changed"
    if now.get("fixed_version") != decided_on.get("fixed_version"):
        return "the fixed version changed"
    return None
