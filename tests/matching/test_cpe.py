"""CPE parsing and NVD configuration matching, on real NVD records and small hand-made ones."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fleetcare.intel.records import CpeConfiguration, CpeMatch, CpeNode
from fleetcare.matching.cpe import (
    CpeInventory,
    CpeKey,
    InvalidCpe,
    candidate_key,
    compile_cpe_rule,
    configuration_keys,
    match_configurations,
    parse_cpe,
)
from fleetcare.matching.verdict import Verdict
from tests.matching.fixture_records import nvd_configurations

M, N, U = Verdict.MATCH, Verdict.NO_MATCH, Verdict.UNDECIDED


def cpe23(
    part: str,
    vendor: str,
    product: str,
    version: str = "*",
    update: str = "*",
    target_sw: str = "*",
) -> str:
    return f"cpe:2.3:{part}:{vendor}:{product}:{version}:{update}:*:*:*:{target_sw}:*:*"


# --- parsing -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "cpe:2.3:a:haxx:libcurl:7.82.0:*:*:*:*:*:*:*",
            {
                "part": "a",
                "vendor": "haxx",
                "product": "libcurl",
                "version": "7.82.0",
                "update": "*",
            },
        ),
        (
            "cpe:/a:busybox:busybox:1.33.2",
            {"vendor": "busybox", "version": "1.33.2", "update": "*", "target_sw": "*"},
        ),
        (
            "cpe:/a:w1.fi:hostapd:2020-06-08-5a8b3662",
            {"vendor": "w1.fi", "product": "hostapd", "version": "2020-06-08-5a8b3662"},
        ),
        ("cpe:2.3:a:microsoft:visual_c\\+\\+:2008:*:*:*:*:*:*:*", {"product": "visual_c++"}),
        (
            "cpe:2.3:a:nodejs:node.js:18.12.0:*:*:*:lts:*:*:*",
            {"product": "node.js", "sw_edition": "lts"},
        ),
        ("cpe:2.3:a:acme:odd\\:name:1.0:*:*:*:*:*:*:*", {"product": "odd:name", "version": "1.0"}),
        ("cpe:2.3:A:ZLIB:Zlib:1.2.11:*:*:*:*:*:*:*", {"vendor": "zlib", "product": "zlib"}),
        ("cpe:2.3:o:linux:linux_kernel:6.8:rc1:*:*:*:*:*:*", {"version": "6.8", "update": "rc1"}),
        ("cpe:2.3:a:acme:tool:1.0", {"version": "1.0", "other": "*"}),  # trailing ANY dropped
        ("cpe:/a:foo%21bar:baz:1.0", {"vendor": "foo!bar"}),
        (
            "cpe:/a:acme:agent:2.0:sp1:~~pro~linux~x64~",
            {
                "update": "sp1",
                "edition": "*",
                "sw_edition": "pro",
                "target_sw": "linux",
                "target_hw": "x64",
                "other": "*",
            },
        ),
        ("cpe:/h:netapp:h300s:-", {"part": "h", "version": "-"}),
    ],
)
def test_parse(text, expected):
    cpe = parse_cpe(text)
    for attribute, value in expected.items():
        assert getattr(cpe, attribute) == value, attribute
    assert cpe.text == text


@pytest.mark.parametrize(
    "text",
    [
        "",
        "zlib",
        "cpe:2.3:x:zlib:zlib:1.2.11:*:*:*:*:*:*:*",  # no such part
        "cpe:2.3:a:*:zlib:1.2.11:*:*:*:*:*:*:*",  # no vendor
        "cpe:2.3:a:zlib:zlib:1:*:*:*:*:*:*:*:*:*",  # too many attributes
        "cpe:/a:v:p:1:2:3:4:5",
        "cpe:/a:v:p:1:2:~broken~packing",
    ],
)
def test_invalid_cpes_raise(text):
    with pytest.raises(InvalidCpe):
        parse_cpe(text)


def test_keys():
    assert candidate_key("cpe:/a:zlib:zlib:1.2.11") == CpeKey("zlib", "zlib")
    assert candidate_key("cpe:2.3:a:GNU:Zlib:1.2.11:*:*:*:*:*:*:*") == CpeKey("gnu", "zlib")
    assert candidate_key("not a cpe") is None
    assert CpeKey("zlib", "zlib").as_text() == "zlib:zlib"


def test_configuration_keys_are_the_vulnerable_products_only():
    keys = configuration_keys(nvd_configurations("CVE-2022-37434"))
    assert CpeKey("zlib", "zlib") in keys
    assert CpeKey("netapp", "h300s_firmware") in keys
    assert CpeKey("netapp", "h300s") not in keys  # hardware platform, vulnerable=false


# --- real NVD records ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cve", "component", "verdict"),
    [
        # zlib <= 1.2.12, but only under NVD's vendor name
        ("CVE-2022-37434", "cpe:/a:zlib:zlib:1.2.11", M),
        ("CVE-2022-37434", "cpe:/a:zlib:zlib:1.2.12", M),  # end including
        ("CVE-2022-37434", "cpe:/a:zlib:zlib:1.2.13", N),
        ("CVE-2022-37434", "cpe:/a:gnu:zlib:1.2.11", N),  # the OpenWrt SBOM's vendor
        # busybox <= 1.36.1
        ("CVE-2022-48174", "cpe:/a:busybox:busybox:1.33.2", M),
        ("CVE-2022-48174", "cpe:/a:busybox:busybox:1.36.1", M),
        ("CVE-2022-48174", "cpe:/a:busybox:busybox:1.36.2", N),
        # dnsmasq < 2.87
        ("CVE-2022-0934", "cpe:/a:thekelleys:dnsmasq:2.85", M),
        ("CVE-2022-0934", "cpe:/a:thekelleys:dnsmasq:2.87", N),  # exactly at the fix
        # libcurl 7.69.0 to < 8.4.0
        ("CVE-2023-38545", "cpe:/a:haxx:libcurl:7.82.0", M),
        ("CVE-2023-38545", "cpe:/a:haxx:libcurl:7.69.0", M),  # start including
        ("CVE-2023-38545", "cpe:/a:haxx:libcurl:7.68.0", N),
        ("CVE-2023-38545", "cpe:/a:haxx:libcurl:8.4.0", N),
        ("CVE-2023-38545", "cpe:/a:haxx:curl:7.82.0", N),  # another product
        ("CVE-2023-38545", "cpe:2.3:o:haxx:libcurl:7.82.0:*:*:*:*:*:*:*", N),  # another part
        # OpenSSL 3.0.0 to < 3.0.7: not 1.1.1n
        ("CVE-2022-3602", "cpe:/a:openssl:openssl:3.0.6", M),
        ("CVE-2022-3602", "cpe:/a:openssl:openssl:1.1.1n", N),
        ("CVE-2022-3602", "cpe:/a:openssl:openssl:3.0.7", N),
        # OpenSSH < 9.3, plus 9.3 and 9.3p1 as concrete versions with an update field
        ("CVE-2023-38408", "cpe:2.3:a:openbsd:openssh:9.2:p1:*:*:*:*:*:*", M),
        ("CVE-2023-38408", "cpe:2.3:a:openbsd:openssh:9.3:p1:*:*:*:*:*:*", M),
        ("CVE-2023-38408", "cpe:2.3:a:openbsd:openssh:9.3p1:*:*:*:*:*:*:*", M),
        ("CVE-2023-38408", "cpe:2.3:a:openbsd:openssh:9.3:-:*:*:*:*:*:*", M),
        ("CVE-2023-38408", "cpe:2.3:a:openbsd:openssh:9.3:p2:*:*:*:*:*:*", N),
        ("CVE-2023-38408", "cpe:2.3:a:openbsd:openssh:9.3p2:*:*:*:*:*:*:*", N),
        ("CVE-2023-38408", "cpe:2.3:a:openbsd:openssh:9.4:p1:*:*:*:*:*:*", N),
        # Linux: four ranges and 6.8 rc1
        ("CVE-2024-1086", "cpe:2.3:o:linux:linux_kernel:5.10.100:*:*:*:*:*:*:*", M),
        ("CVE-2024-1086", "cpe:2.3:o:linux:linux_kernel:6.6.14:*:*:*:*:*:*:*", M),
        ("CVE-2024-1086", "cpe:2.3:o:linux:linux_kernel:6.8:rc1:*:*:*:*:*:*", M),
        ("CVE-2024-1086", "cpe:2.3:o:linux:linux_kernel:6.8-rc1:*:*:*:*:*:*:*", M),
        ("CVE-2024-1086", "cpe:2.3:o:linux:linux_kernel:6.8:*:*:*:*:*:*:*", N),
        ("CVE-2024-1086", "cpe:2.3:o:linux:linux_kernel:6.1.76:*:*:*:*:*:*:*", N),
        ("CVE-2024-1086", "cpe:2.3:o:linux:linux_kernel:3.14:*:*:*:*:*:*:*", N),
        # no version: never a match, whatever the criteria
        ("CVE-2022-48174", "cpe:/a:busybox:busybox:-", U),
        ("CVE-2022-48174", "cpe:/a:busybox:busybox", U),
        ("CVE-2022-48174", "cpe:2.3:a:busybox:busybox:*:*:*:*:*:*:*:*", U),
        ("CVE-2022-48174", "cpe:/a:busybox:busybox:r1234", U),  # not an orderable version
        # NVD criterion with version "-": no version information to match on
        ("CVE-2020-22283", "cpe:2.3:a:lwip_project:lwip:2.1.2:*:*:*:*:*:*:*", U),
    ],
)
def test_nvd_records(cve, component, verdict):
    assert match_configurations(component, nvd_configurations(cve)).verdict is verdict


def test_match_reason_and_fixed_version():
    result = match_configurations(
        "cpe:/a:haxx:libcurl:7.82.0", nvd_configurations("CVE-2023-38545")
    )
    assert result.reason == (
        "haxx:libcurl 7.82.0 matches cpe:2.3:a:haxx:libcurl:*:*:*:*:*:*:*:* "
        "(versions >= 7.69.0, < 8.4.0)"
    )
    assert result.fixed_version == "8.4.0"
    assert result.criteria[0].version_start_including == "7.69.0"


def test_end_including_has_no_fixed_version():
    result = match_configurations("cpe:/a:zlib:zlib:1.2.11", nvd_configurations("CVE-2022-37434"))
    assert "(versions <= 1.2.12)" in result.reason
    assert result.fixed_version is None


def test_no_match_reason_names_the_bounds():
    result = match_configurations("cpe:/a:zlib:zlib:1.2.13", nvd_configurations("CVE-2022-37434"))
    assert "outside cpe:2.3:a:zlib:zlib:*:*:*:*:*:*:*:* (versions <= 1.2.12)" in result.reason


def test_undecided_reason_says_why():
    result = match_configurations("cpe:/a:busybox:busybox:-", nvd_configurations("CVE-2022-48174"))
    assert "no version" in result.reason


def test_netapp_firmware_with_version_dash_needs_its_hardware():
    """The NetApp configuration: h300s_firmware (version '-') AND the h300s hardware."""
    configurations = nvd_configurations("CVE-2022-37434")
    firmware = "cpe:2.3:o:netapp:h300s_firmware:1.0:*:*:*:*:*:*:*"
    hardware = frozenset({"cpe:2.3:h:netapp:h300s:-:*:*:*:*:*:*:*"})
    alone = match_configurations(firmware, configurations)
    assert alone.verdict is N
    assert "cpe:2.3:h:netapp:h300s:-" in alone.reason
    with_hardware = match_configurations(firmware, configurations, hardware)
    assert with_hardware.verdict is U  # NVD gives no firmware version to compare with


# --- hand-made configurations ------------------------------------------------------------------

APP = CpeMatch(cpe23("a", "acme", "webui"), version_end_excluding="2.0")
BOARD = CpeMatch(cpe23("h", "acme", "router_x1", "-"), vulnerable=False)
OS_30 = CpeMatch(cpe23("o", "acme", "rtos", "3.0"), vulnerable=False)
LEGACY = CpeMatch(cpe23("o", "acme", "legacy_os"), vulnerable=False)


def config(*nodes: CpeNode, operator: str = "AND", negate: bool = False) -> CpeConfiguration:
    return CpeConfiguration(nodes=nodes, operator=operator, negate=negate)  # type: ignore[arg-type]


def node(*matches: CpeMatch, operator: str = "OR", negate: bool = False) -> CpeNode:
    return CpeNode(operator=operator, matches=matches, negate=negate)  # type: ignore[arg-type]


RUNNING_ON_BOARD = (config(node(APP), node(BOARD)),)
RUNNING_ON_RTOS_30 = (config(node(APP), node(OS_30)),)
NOT_ON_LEGACY = (config(node(APP), node(LEGACY, negate=True)),)


@pytest.mark.parametrize(
    ("configurations", "component", "release", "verdict"),
    [
        # AND: the vulnerable app on a platform of the same release
        (RUNNING_ON_BOARD, "1.5", {cpe23("h", "acme", "router_x1", "-")}, M),
        (RUNNING_ON_BOARD, "1.5", {cpe23("h", "acme", "router_x1", "rev2")}, M),
        (RUNNING_ON_BOARD, "1.5", {cpe23("h", "Acme", "Router_X1")}, M),
        (RUNNING_ON_BOARD, "1.5", set(), N),  # platform absent
        (RUNNING_ON_BOARD, "1.5", None, N),
        (RUNNING_ON_BOARD, "1.5", {cpe23("h", "acme", "router_x2", "-")}, N),
        (RUNNING_ON_BOARD, "2.0", {cpe23("h", "acme", "router_x1", "-")}, N),
        (RUNNING_ON_BOARD, "-", {cpe23("h", "acme", "router_x1", "-")}, U),
        # a platform criterion with a concrete version
        (RUNNING_ON_RTOS_30, "1.5", {cpe23("o", "acme", "rtos", "3.0")}, M),
        (RUNNING_ON_RTOS_30, "1.5", {cpe23("o", "acme", "rtos", "3.1")}, N),
        (RUNNING_ON_RTOS_30, "1.5", {cpe23("o", "acme", "rtos", "-")}, U),
        (
            RUNNING_ON_RTOS_30,
            "1.5",
            {cpe23("o", "acme", "rtos", "3.1"), cpe23("o", "acme", "rtos", "3.0")},
            M,
        ),
        # negate: "not running on legacy_os"
        (NOT_ON_LEGACY, "1.5", set(), M),
        (NOT_ON_LEGACY, "1.5", {cpe23("o", "acme", "legacy_os", "1.0")}, N),
        ((config(node(APP), negate=True),), "1.5", set(), N),  # negated configuration
        ((config(node(APP, negate=True)),), "1.5", set(), N),  # the app only in a negated node
        # OR across nodes of one configuration
        ((config(node(APP), node(BOARD), operator="OR"),), "1.5", set(), M),
        # AND inside a node
        ((config(node(APP, BOARD, operator="AND")),), "1.5", {cpe23("h", "acme", "router_x1")}, M),
        ((config(node(APP, BOARD, operator="AND")),), "1.5", set(), N),
    ],
)
def test_configurations(configurations, component, release, verdict):
    inventory = CpeInventory(release) if release is not None else None
    result = compile_cpe_rule(configurations).match(
        parse_cpe(cpe23("a", "acme", "webui", component)), inventory
    )
    assert result.verdict is verdict, result.reason


def test_platform_match_reports_the_platform():
    result = match_configurations(
        cpe23("a", "acme", "webui", "1.5"),
        RUNNING_ON_BOARD,
        frozenset({cpe23("h", "acme", "router_x1", "-")}),
    )
    assert result.criteria == (APP, BOARD)
    assert "running on cpe:2.3:h:acme:router_x1:-" in result.reason


def test_missing_platform_is_the_reason():
    result = match_configurations(cpe23("a", "acme", "webui", "1.5"), RUNNING_ON_BOARD)
    assert "also needs cpe:2.3:h:acme:router_x1:-" in result.reason
    assert "which the release does not contain" in result.reason


def test_excluded_platform_is_the_reason():
    result = match_configurations(
        cpe23("a", "acme", "webui", "1.5"),
        NOT_ON_LEGACY,
        frozenset({cpe23("o", "acme", "legacy_os", "1.0")}),
    )
    assert "excludes releases with cpe:2.3:o:acme:legacy_os" in result.reason


@pytest.mark.parametrize(
    ("criteria", "component", "verdict"),
    [
        # version "*" without bounds: every version
        (CpeMatch(cpe23("a", "couchbase", "bleve")), "1.0.0", M),
        (CpeMatch(cpe23("a", "couchbase", "bleve")), "-", U),
        # a concrete version: only that version
        (CpeMatch(cpe23("a", "apache", "struts", "2.3.5")), "2.3.5", M),
        (CpeMatch(cpe23("a", "apache", "struts", "2.3.5")), "2.3.50", N),
        (CpeMatch(cpe23("a", "apache", "struts", "2.5")), "2.5.0", M),  # same version
        # the update field, given apart or inside the version
        (CpeMatch(cpe23("a", "arm", "mbed_tls", "3.0.0", "preview1")), "3.0.0:preview1", M),
        (CpeMatch(cpe23("a", "arm", "mbed_tls", "3.0.0", "preview1")), "3.0.0-preview1", M),
        (CpeMatch(cpe23("a", "arm", "mbed_tls", "3.0.0", "preview1")), "3.0.0:-", N),
        (CpeMatch(cpe23("a", "arm", "mbed_tls", "3.0.0", "preview1")), "3.0.0:preview2", N),
        (CpeMatch(cpe23("a", "arm", "mbed_tls", "3.0.0", "-")), "3.0.0:preview1", N),
        # start excluding
        (CpeMatch(cpe23("a", "x", "y"), version_start_excluding="1.0"), "1.0", N),
        (CpeMatch(cpe23("a", "x", "y"), version_start_excluding="1.0"), "1.0.1", M),
        # other attributes count when both sides give them
        (
            CpeMatch(cpe23("a", "x", "y", target_sw="windows"), version_end_excluding="3"),
            "2.0::linux",
            N,
        ),
        (
            CpeMatch(cpe23("a", "x", "y", target_sw="windows"), version_end_excluding="3"),
            "2.0::windows",
            M,
        ),
        (CpeMatch(cpe23("a", "x", "y", target_sw="windows"), version_end_excluding="3"), "2.0", M),
        # an NVD bound the ordering cannot read
        (CpeMatch(cpe23("a", "x", "y"), version_end_excluding="release-two"), "1.0", U),
    ],
)
def test_criteria(criteria, component, verdict):
    version, _, rest = component.partition(":")
    update, _, target_sw = rest.partition(":")
    wanted = parse_cpe(criteria.criteria)
    text = cpe23(
        wanted.part, wanted.vendor, wanted.product, version, update or "*", target_sw or "*"
    )
    assert match_configurations(text, (config(node(criteria)),)).verdict is verdict


def test_inventory_skips_strings_that_are_not_cpes():
    inventory = CpeInventory(["cpe:/h:acme:router_x1", "garbage"])
    assert len(inventory) == 1
    assert inventory.invalid == ["garbage"]


def test_compiled_rules_are_cached():
    configurations = nvd_configurations("CVE-2022-37434")
    assert compile_cpe_rule(configurations) is compile_cpe_rule(
        nvd_configurations("CVE-2022-37434")
    )


# --- bounds against an independent oracle -----------------------------------------------------

triple = st.tuples(st.integers(0, 4), st.integers(0, 4), st.integers(0, 4))


def _text(version: tuple[int, int, int]) -> str:
    return ".".join(map(str, version))


@settings(max_examples=400)
@given(
    triple,
    st.one_of(st.none(), triple),
    st.one_of(st.none(), triple),
    st.booleans(),
    st.booleans(),
)
def test_bounds_agree_with_integer_comparison(version, start, end, start_incl, end_incl):
    criteria = CpeMatch(
        cpe23("a", "acme", "lib"),
        version_start_including=_text(start) if start and start_incl else None,
        version_start_excluding=_text(start) if start and not start_incl else None,
        version_end_including=_text(end) if end and end_incl else None,
        version_end_excluding=_text(end) if end and not end_incl else None,
    )
    expected = True
    if start is not None:
        expected &= version >= start if start_incl else version > start
    if end is not None:
        expected &= version <= end if end_incl else version < end
    result = match_configurations(
        cpe23("a", "acme", "lib", _text(version)), (config(node(criteria)),)
    )
    assert result.matched is expected
