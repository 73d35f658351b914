"""Every real CSAF example imports, validates and renders; a broken advisory fails with the test
number the CSAF standard gives for what is wrong."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from fleetcare.advisories.render import advisory_view
from fleetcare.core.auth import Role
from fleetcare.triage import csafdoc

FIXTURES = Path(__file__).parents[1] / "fixtures" / "advisories"
EXAMPLES = sorted([*FIXTURES.glob("csaf/*.json"), *FIXTURES.glob("csaf_vex/*.json")])
#: The csaf package finds one real defect in the OASIS examples: uc-08 lists a product under
#: `recommended` without a remediation (6.1.27, VEX profile). It is still imported, with it noted.
KNOWN_PROBLEMS = {"2022-evd-uc-08-001.json": {"6.1.27"}}


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_real_examples_validate_and_render(path):
    document = json.loads(path.read_bytes())
    problems = {p.test for p in csafdoc.validate(document)}
    assert problems == KNOWN_PROBLEMS.get(path.name, set())
    view = advisory_view(document)
    assert view.title == document["document"]["title"]
    assert view.tracking_id == document["document"]["tracking"]["id"]
    assert len(view.vulnerabilities) == len(document.get("vulnerabilities", []))


def test_every_example_imports_over_http(client, tokens, database):
    headers = tokens.headers(Role.SECURITY)
    for path in EXAMPLES:
        response = client.post("/api/v1/advisories/imports", content=path.read_bytes(),
                               headers=headers)
        assert response.status_code == 201, (path.name, response.text)
        problems = {p["test"] for p in response.json()["problems"]}
        assert problems == KNOWN_PROBLEMS.get(path.name, set()), path.name
    listed = client.get("/api/v1/advisories/imports", headers=tokens.headers(Role.VIEWER)).json()
    assert len(listed) == len(EXAMPLES)
    again = client.post("/api/v1/advisories/imports", content=EXAMPLES[0].read_bytes(),
                        headers=headers)
    assert again.status_code == 409
    broken = client.post("/api/v1/advisories/imports", content=b'{"document": {}}',
                         headers=headers)
    assert broken.status_code == 422
    assert broken.json()["detail"]


def _fleetcare_like() -> dict:
    return json.loads((FIXTURES / "csaf" / "bsi-2022-0001.json").read_bytes())


def test_broken_advisories_fail_with_the_right_test_number():
    doc = _fleetcare_like()
    assert csafdoc.validate(doc) == []

    missing = copy.deepcopy(doc)  # 6.1.1: a status names a product the tree does not define
    missing["vulnerabilities"][0]["product_status"]["known_affected"].append("CSAFPID-NOPE")
    found = csafdoc.validate(missing)
    assert {p.test for p in found} == {"6.1.1"}
    assert found[0].path.startswith("/vulnerabilities/0/product_status/known_affected")

    history = copy.deepcopy(doc)  # 6.1.16: the version is not the latest revision
    history["document"]["tracking"]["version"] = "7"
    assert "6.1.16" in {p.test for p in csafdoc.validate(history)}

    schema = copy.deepcopy(doc)
    del schema["document"]["publisher"]
    assert {p.test for p in csafdoc.validate(schema)} == {"schema"}


def test_security_txt_names_the_provider_metadata():
    from fleetcare.core.settings import Settings
    from fleetcare.disclosure.service import security_txt_fields

    fields = security_txt_fields(Settings(base_url="https://psirt.example.com"))
    assert ("CSAF", "https://psirt.example.com/.well-known/csaf/provider-metadata.json") in fields
