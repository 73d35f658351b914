"""Direct, transitive or unknown: how each component is reached from the primary component."""

import pytest

from fleetcare.sbom._draft import classify
from fleetcare.sbom.model import DependencyKind

D, T, U = DependencyKind.DIRECT, DependencyKind.TRANSITIVE, DependencyKind.UNKNOWN


def kinds(primary, edges, declared=None, refs="P a b c d"):
    names = refs.split()
    depends_on = {ref: [] for ref in names}
    for source, targets in edges.items():
        depends_on[source] = list(targets)
    found = classify(primary, names, depends_on, set(declared or edges))
    return "".join({D: "D", T: "T", U: "U"}[found[ref]] for ref in names if ref != primary)


@pytest.mark.parametrize(
    ("primary", "edges", "declared", "expected"),
    [
        # No edges at all: the graph is missing, nothing is known.
        ("P", {}, None, "UUUU"),
        ("P", {}, {"a", "b"}, "UUUU"),
        # The primary's own edges are the direct dependencies.
        ("P", {"P": "ab", "a": "c"}, None, "DDTU"),
        # A chain: only the first hop is direct.
        ("P", {"P": "a", "a": "b", "b": "c", "c": "d"}, None, "DTTT"),
        # A component reached directly and through another stays direct.
        ("P", {"P": "ab", "a": "b"}, None, "DDUU"),
        # Cycles terminate, and never make the primary its own dependency.
        ("P", {"P": "a", "a": "b", "b": "aP"}, None, "DTUU"),
        # Without a primary, the top of the graph (declared, depended on by none) is direct.
        (None, {"a": "b", "b": "c"}, None, "DTTU"),
        (None, {"a": "b"}, {"a", "d"}, "DTUD"),
        # A primary without edges falls back to the same rule.
        ("P", {"a": "b"}, None, "DTUU"),
        # A pure cycle has no top: nothing can be said.
        (None, {"a": "b", "b": "a"}, None, "UUUU"),
    ],
)
def test_classify(primary, edges, declared, expected):
    refs = "P a b c d" if primary else "a b c d"
    assert kinds(primary, edges, declared, refs) == expected


def test_the_primary_component_itself_is_unknown():
    found = classify("P", ["P", "a"], {"P": ["a"], "a": []}, {"P"})
    assert found == {"P": U, "a": D}
