"""The words of end-of-life notices, in the customer's language where a text exists (English
and German so far; other languages get English).

Texts are plain strings built from a notice's content: what ends and when, what to do, the
successor and the offer, how to decommission securely. They say the month and year, as CRA
Art. 13(19) requires at least.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from fleetcare.lifecycle.rules import DECOMMISSIONING_STEPS
from fleetcare.portfolio.rules import month_year

_WORDS: dict[str, dict[str, str]] = {
    "en": {
        "subject": "{manufacturer}: security support for {product} ends in {month_year}",
        "subject_ended": "{manufacturer}: security support for {product} has ended",
        "opening": (
            "Security support for {product}{model} ends in {month_year} ({support_end}). "
            "After that date the product receives no more security updates."
        ),
        "devices": "Our records show {devices} of your devices affected.",
        "late": "This notice was due on {due}; we are sorry it reaches you late.",
        "successor": "Successor: {successor}.",
        "upgrade": "Upgrade path: {text}",
        "offer": "Our offer: {text}",
        "after": "After support ends: {text}",
        "decommissioning": "When you take a device out of service:",
        "more": "Details and updates: {link}",
        "signature": "{manufacturer}",
    },
    "de": {
        "subject": "{manufacturer}: Sicherheitsunterstützung für {product} endet im {month_year}",
        "subject_ended": "{manufacturer}: Sicherheitsunterstützung für {product} ist beendet",
        "opening": (
            "Die Sicherheitsunterstützung für {product}{model} endet im {month_year} "
            "({support_end}). Danach erhält das Produkt keine Sicherheitsupdates mehr."
        ),
        "devices": "Laut unseren Unterlagen sind {devices} Ihrer Geräte betroffen.",
        "late": "Diese Mitteilung war am {due} fällig; bitte entschuldigen Sie die Verspätung.",
        "successor": "Nachfolger: {successor}.",
        "upgrade": "Umstieg: {text}",
        "offer": "Unser Angebot: {text}",
        "after": "Nach dem Ende der Unterstützung: {text}",
        "decommissioning": "Wenn Sie ein Gerät außer Betrieb nehmen:",
        "more": "Einzelheiten und Neuigkeiten: {link}",
        "signature": "{manufacturer}",
    },
}
_MONTHS_DE = [
    "Januar", "Februar", "März", "April", "Mai", "Juni",
    "Juli", "August", "September", "Oktober", "November", "Dezember",
]  # fmt: skip


def _month_year(day: dt.date, language: str) -> str:
    if language == "de":
        return f"{_MONTHS_DE[day.month - 1]} {day.year}"
    return month_year(day)


def languages() -> list[str]:
    return sorted(_WORDS)


def notice_text(
    content: dict[str, Any],
    language: str,
    *,
    devices: int | None,
    link: str,
    offer: bool = True,
    late: bool = False,
    due: str = "",
) -> tuple[str, str]:
    """(subject, body) of a milestone notice, or of a ceasing-operations notice."""
    words = _WORDS.get(language.split("-", maxsplit=1)[0], _WORDS["en"])
    lang = (
        language.split("-", maxsplit=1)[0] if language.split("-", maxsplit=1)[0] in _WORDS else "en"
    )
    if content.get("kind") == "cessation":
        subject = f"{content['manufacturer']}: ceasing operations on {content['effective_on']}"
        return subject, f"{content['text']}\n\n{link}\n"
    support_end = dt.date.fromisoformat(content["support_end"])
    facts = {
        "manufacturer": content["manufacturer"],
        "product": content["product"],
        "model": f" ({content['model']})" if content.get("model") else "",
        "month_year": _month_year(support_end, lang),
        "support_end": support_end.isoformat(),
    }
    ended = content.get("months_before") == 0
    subject = words["subject_ended" if ended else "subject"].format(**facts)
    lines = [words["opening"].format(**facts), ""]
    if devices:
        lines += [words["devices"].format(devices=devices), ""]
    if late:
        lines += [words["late"].format(due=due or "earlier"), ""]
    if content.get("successor"):
        lines.append(words["successor"].format(successor=content["successor"]))
    if content.get("upgrade_path"):
        lines.append(words["upgrade"].format(text=content["upgrade_path"]))
    if offer and content.get("transition_offer"):
        lines.append(words["offer"].format(text=content["transition_offer"]))
    if content.get("after_support"):
        lines.append(words["after"].format(text=content["after_support"]))
    steps = {k: v for k, v in (content.get("decommissioning") or {}).items() if v}
    if steps:
        lines += ["", words["decommissioning"]]
        lines += [f"- {DECOMMISSIONING_STEPS.get(k, k)}: {v}" for k, v in steps.items()]
    lines += ["", words["more"].format(link=link), "", words["signature"].format(**facts)]
    return subject, "\n".join(lines) + "\n"


def cessation_texts(
    *,
    manufacturer: str,
    address: str,
    effective_on: dt.date,
    reason: str,
    products: list[tuple[str, str, dt.date, int]],
    customers: int,
    support_url: str,
) -> tuple[str, str]:
    """(notice to the market-surveillance authority, notice to customers)."""
    rows = [
        f"- {name}{f' ({model})' if model else ''}: support period until {end} "
        f"({month_year(end)}), {count} devices in the field"
        for name, model, end, count in products
    ]
    authority = "\n".join(
        [
            "Notice of ceasing operations under Article 13(23) of Regulation (EU) 2024/2847",
            "",
            f"Manufacturer: {manufacturer}" + (f", {address}" if address else ""),
            f"Operations cease on: {effective_on}",
            *([f"Reason: {reason}"] if reason else []),
            "",
            "Products with digital elements placed on the market, their support periods and the "
            "devices known to be in the field:",
            *(rows or ["- none"]),
            "",
            f"Users informed: {customers} customers, by the notice attached below, before the "
            "date above.",
            "Security updates already issued stay available for download for their "
            "availability period (Art. 13(9)).",
        ]
    )
    customer = "\n".join(
        [
            f"{manufacturer} will cease operations on {effective_on}.",
            *([reason] if reason else []),
            "",
            "From that date no further security updates will be provided for these products:",
            *(rows or ["- none"]),
            "",
            "Security updates already published remain available. Please plan to replace the "
            "devices, and decommission them securely (factory reset, remove your data, revoke "
            f"credentials). Product information: {support_url}",
        ]
    )
    return authority + "\n", customer + "\n"


def handover_checklist(products: list[tuple[str, str | None]]) -> list[str]:
    """What to hand over before operations cease."""
    items = [
        "Update-signing keys (TUF root and targets keys): hand over to a successor organisation "
        "or destroy, and record which",
        "Source code escrow: deposit the firmware sources with an escrow agent, or decide "
        "against it and record why",
        "Technical documentation and EU declarations of conformity: name who keeps them for "
        "the retention period (Art. 13(13))",
        "Security updates: arrange that issued updates stay downloadable for their "
        "availability period (Art. 13(9))",
        "Public support page and security.txt: state the end of operations",
    ]
    for name, version in products:
        items.append(
            f"Last SBOM of {name}"
            + (f" (release {version})" if version else "")
            + ": export and hand over with the documentation"
        )
    return items
