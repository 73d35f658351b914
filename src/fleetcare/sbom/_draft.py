"""What a format reader fills in, and the one place that turns it into the immutable model.

Readers only collect facts as the file states them: components, dependency edges between refs,
which components declare their dependencies and how complete the SBOM says they are. `build()`
applies the rules every format shares: edges to refs that name no component are dropped (and
counted when they name nothing in the document at all), and each component is classified as a
direct or transitive dependency of the primary component, or unknown.
"""

from __future__ import annotations

import datetime as dt
from collections import deque
from dataclasses import dataclass, field

from fleetcare.sbom.model import (
    Completeness,
    Component,
    DependencyKind,
    Party,
    Sbom,
    SbomEncoding,
    SbomFormat,
)

_COMPLETENESS_RANK = {Completeness.UNKNOWN: 0, Completeness.COMPLETE: 1, Completeness.INCOMPLETE: 2}


@dataclass
class ComponentDraft:
    ref: str
    name: str = ""
    version: str | None = None
    group: str | None = None
    type: str | None = None
    supplier: Party | None = None
    creator: Party | None = None
    purl: str | None = None
    cpe: str | None = None
    hashes: dict[str, str] = field(default_factory=dict)
    licenses: list[str] = field(default_factory=list)
    license_names: list[str] = field(default_factory=list)
    file_name: str | None = None
    scope: str | None = None

    def add_license(self, expression: str) -> None:
        if expression not in self.licenses:
            self.licenses.append(expression)


@dataclass
class DocumentDraft:
    format: SbomFormat
    spec_version: str
    encoding: SbomEncoding
    serial: str | None = None
    name: str | None = None
    timestamp: dt.datetime | None = None
    creators: list[Party] = field(default_factory=list)
    tools: list[Party] = field(default_factory=list)
    primary_ref: str | None = None
    components: list[ComponentDraft] = field(default_factory=list)  # the primary included
    edges: list[tuple[str, str]] = field(default_factory=list)  # (dependent, dependency)
    declared: set[str] = field(default_factory=set)  # refs whose dependencies are listed
    completeness: dict[str, Completeness] = field(default_factory=dict)
    other_refs: set[str] = field(default_factory=set)  # refs of non-components (files, services)
    vulnerabilities: int = 0

    def set_completeness(self, ref: str, value: Completeness) -> None:
        # When statements disagree, the more cautious one wins: incomplete over complete.
        current = self.completeness.get(ref, Completeness.UNKNOWN)
        if _COMPLETENESS_RANK[value] > _COMPLETENESS_RANK[current]:
            self.completeness[ref] = value


def _is_external(ref: str) -> bool:
    # SPDX 2 elements of other documents (DocumentRef-x:SPDXRef-y), NONE and NOASSERTION are
    # legitimate relationship ends that simply are not components of this document.
    return ref.startswith("DocumentRef-") or ref in {"NONE", "NOASSERTION"}


def classify(
    primary_ref: str | None,
    refs: list[str],
    depends_on: dict[str, list[str]],
    declared: set[str],
) -> dict[str, DependencyKind]:
    """Direct, transitive or unknown for every ref, seen from the primary component.

    Without any edge the graph says nothing: all unknown. Where the primary component has no
    outgoing edge (or there is no primary), the top level is taken to be the components that
    declare dependencies and are depended on by none: those are direct. Components the walk
    does not reach stay unknown rather than being guessed.
    """
    kinds = dict.fromkeys(refs, DependencyKind.UNKNOWN)
    if not any(depends_on.values()):
        return kinds
    if primary_ref is not None and depends_on.get(primary_ref):
        top = list(depends_on[primary_ref])
    else:
        targets = {t for deps in depends_on.values() for t in deps}
        top = [r for r in refs if r in declared and r not in targets and r != primary_ref]
    queue: deque[str] = deque()
    for ref in top:
        if ref != primary_ref and kinds.get(ref) is DependencyKind.UNKNOWN:
            kinds[ref] = DependencyKind.DIRECT
            queue.append(ref)
    while queue:
        for target in depends_on.get(queue.popleft(), []):
            if target != primary_ref and kinds.get(target) is DependencyKind.UNKNOWN:
                kinds[target] = DependencyKind.TRANSITIVE
                queue.append(target)
    if primary_ref is not None:
        kinds[primary_ref] = DependencyKind.UNKNOWN
    return kinds


def build(draft: DocumentDraft) -> Sbom:
    refs = [c.ref for c in draft.components]
    known = set(refs)
    depends_on: dict[str, list[str]] = {ref: [] for ref in refs}
    unknown: set[str] = set()
    for source, target in draft.edges:
        if source in known and target in known:
            if source != target and target not in depends_on[source]:
                depends_on[source].append(target)
            continue
        for end in (source, target):
            if end not in known and end not in draft.other_refs and not _is_external(end):
                unknown.add(end)
    declared = draft.declared & known
    kinds = classify(draft.primary_ref, refs, depends_on, declared)

    def finish(c: ComponentDraft) -> Component:
        return Component(
            ref=c.ref,
            name=c.name,
            version=c.version,
            group=c.group,
            type=c.type,
            supplier=c.supplier,
            creator=c.creator,
            purl=c.purl,
            cpe=c.cpe,
            hashes=c.hashes,
            licenses=tuple(c.licenses),
            license_names=tuple(c.license_names),
            file_name=c.file_name,
            scope=c.scope,
            depends_on=tuple(depends_on[c.ref]),
            dependencies_declared=c.ref in declared or bool(depends_on[c.ref]),
            dependency_completeness=draft.completeness.get(c.ref, Completeness.UNKNOWN),
            dependency_kind=kinds[c.ref],
        )

    primary = None
    others = []
    for c in draft.components:
        if c.ref == draft.primary_ref:
            primary = finish(c)
        else:
            others.append(finish(c))
    return Sbom(
        format=draft.format,
        spec_version=draft.spec_version,
        encoding=draft.encoding,
        serial=draft.serial,
        name=draft.name,
        timestamp=draft.timestamp,
        creators=tuple(draft.creators),
        tools=tuple(draft.tools),
        primary=primary,
        components=tuple(others),
        vulnerabilities=draft.vulnerabilities,
        unknown_refs=tuple(sorted(unknown)),
    )
