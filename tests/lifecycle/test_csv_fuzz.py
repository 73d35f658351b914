"""Whatever text arrives as a customer or device CSV, the import either succeeds or refuses it
with one line naming the problem (InvalidInput, a 422 at the API) — never another error."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fleetcare.core.errors import InvalidInput
from fleetcare.lifecycle import service
from tests.lifecycle.conftest import SETUP, make_fleet

CELL = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12)
COLUMNS = st.sampled_from(
    ["ref", "name", "kind", "language", "emails", "channels", "webhook_url", "device",
     "customer", "product", "state", "transition_offers", "x"]
)  # fmt: skip


@st.composite
def csv_text(draw: st.DrawFn) -> str:
    header = draw(st.lists(COLUMNS, min_size=0, max_size=5))
    rows = draw(st.lists(st.lists(CELL, max_size=6), max_size=4))
    separator = draw(st.sampled_from([",", ";", "\t"]))
    return "\n".join(separator.join(r) for r in [header, *rows]) + draw(st.sampled_from(["", "\n"]))


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=csv_text(), devices=st.booleans())
def test_any_csv_is_imported_or_refused_with_one_line(database, eol_settings, text, devices):
    message = None
    with database.session() as session:
        try:
            if devices:
                service.import_devices_csv(session, text, actor=SETUP)
            else:
                service.import_customers_csv(session, text, actor=SETUP, settings=eol_settings)
        except InvalidInput as exc:
            message = exc.message
        finally:
            session.rollback()
    if message is not None:
        assert message
        assert "\n" not in message


def test_a_fleet_survives_a_refused_import(database, eol_settings):
    fleet = make_fleet(database, eol_settings, customers=2, devices_each=2)
    bad = "device,customer,product\nc1-dev0,c2,thermostat-t1\nc1-dev1,nobody,thermostat-t1\n"
    with database.session() as session:
        try:
            service.import_devices_csv(session, bad, actor=SETUP)
        except InvalidInput:
            session.rollback()
        owners = {
            d.identifier: d.customer_ref
            for d in service.field_devices(session, [fleet.product_id]).values()
        }
    assert owners["c1-dev0"] == "c1"  # the first, valid line was not kept either
