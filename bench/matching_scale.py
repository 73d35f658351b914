"""Import and matching at scale: 100,000 vulnerabilities, a 1,000-component SBOM, 100 releases.

Synthetic data shaped like the real records (OSV PyPI/npm/Debian ranges, NVD CPE configurations
with version bounds) is generated into a temporary directory, then:

1. import throughput: `fleetcare feeds sync` of the OSV zip and the NVD API pages into a fresh
   SQLite database, as a ratio to only decoding the same files with orjson;
2. matching one 1,000-component SBOM against the store (target: under 1 s), as a ratio to only
   looking up its candidate records in the database;
3. a full re-match of 100 releases (target: under 30 s);
4. the standalone scan of the same SBOM against the feed files, in a child process, with its
   peak resident memory (target: under 1 GiB).

    python -m bench matching_scale [--vulns 100000]
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import orjson

ECOSYSTEMS = [("PyPI", "pypi"), ("npm", "npm"), ("Debian:12", "deb")]
VENDORS = 4000  # CPE (vendor, product) pairs; linux_kernel-like hot spots added below


def version(rng: random.Random) -> str:
    return f"{rng.randint(0, 9)}.{rng.randint(0, 30)}.{rng.randint(0, 40)}"


def osv_record(i: int, rng: random.Random, packages: int) -> dict[str, object]:
    eco, _ = ECOSYSTEMS[i % len(ECOSYSTEMS)]
    name = f"pkg{rng.randrange(packages)}"
    low, high = sorted([version(rng), version(rng)], key=lambda v: [int(x) for x in v.split(".")])
    return {
        "schema_version": "1.6.0",
        "id": f"SYN-{i:07d}",
        "modified": "2026-10-01T00:00:00Z",
        "published": "2025-01-01T00:00:00Z",
        "aliases": [f"CVE-2025-{i:07d}"],
        "summary": f"Synthetic vulnerability {i} in {name}",
        "details": "Out-of-bounds write in the parser when handling crafted input. " * 3,
        "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
        "affected": [
            {
                "package": {"ecosystem": eco, "name": name},
                "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": low}, {"fixed": high}]}],
            }
        ],
        "references": [{"type": "ADVISORY", "url": f"https://example.org/advisories/{i}"}],
    }


def nvd_record(i: int, rng: random.Random) -> dict[str, object]:
    vendor = rng.randrange(VENDORS)
    low, high = sorted([version(rng), version(rng)], key=lambda v: [int(x) for x in v.split(".")])
    return {
        "cve": {
            "id": f"CVE-2024-{i:07d}",
            "sourceIdentifier": "cve@mitre.org",
            "published": "2024-05-01T00:00:00.000",
            "lastModified": "2026-10-01T00:00:00.000",
            "vulnStatus": "Analyzed",
            "descriptions": [
                {"lang": "en", "value": f"Synthetic CVE {i}: buffer overflow in product {vendor}."}
            ],
            "metrics": {
                "cvssMetricV31": [
                    {
                        "source": "nvd@nist.gov",
                        "type": "Primary",
                        "cvssData": {
                            "version": "3.1",
                            "vectorString": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
                            "baseScore": 9.8,
                            "baseSeverity": "CRITICAL",
                        },
                    }
                ]
            },
            "weaknesses": [
                {
                    "source": "nvd@nist.gov",
                    "type": "Primary",
                    "description": [{"lang": "en", "value": "CWE-787"}],
                }
            ],
            "configurations": [
                {
                    "nodes": [
                        {
                            "operator": "OR",
                            "negate": False,
                            "cpeMatch": [
                                {
                                    "vulnerable": True,
                                    "criteria": f"cpe:2.3:a:vendor{vendor}:product{vendor}:*:*:*:*:*:*:*:*",
                                    "versionStartIncluding": low,
                                    "versionEndExcluding": high,
                                    "matchCriteriaId": "00000000-0000-0000-0000-000000000000",
                                }
                            ],
                        }
                    ]
                }
            ],
            "references": [{"url": f"https://example.org/cve/{i}", "source": "cve@mitre.org"}],
        }
    }


def write_feeds(root: Path, vulns: int, rng: random.Random) -> tuple[int, int]:
    osv_count = vulns * 6 // 10
    nvd_count = vulns - osv_count
    (root / "osv").mkdir(parents=True)
    (root / "nvd").mkdir()
    with zipfile.ZipFile(root / "osv" / "all.zip", "w", zipfile.ZIP_DEFLATED) as archive:
        for i in range(osv_count):
            archive.writestr(f"SYN-{i:07d}.json", orjson.dumps(osv_record(i, rng, packages=15000)))
    page = 2000
    for start in range(0, nvd_count, page):
        items = [nvd_record(i, rng) for i in range(start, min(nvd_count, start + page))]
        document = {
            "resultsPerPage": len(items),
            "startIndex": start,
            "totalResults": nvd_count,
            "format": "NVD_CVE",
            "version": "2.0",
            "timestamp": "2026-10-01T00:00:00.000",
            "vulnerabilities": items,
        }
        (root / "nvd" / f"page-{start:07d}.json").write_bytes(orjson.dumps(document))
    return osv_count, nvd_count


def decode_only(root: Path) -> float:
    start = time.perf_counter()
    with zipfile.ZipFile(root / "osv" / "all.zip") as archive:
        for name in archive.namelist():
            orjson.loads(archive.read(name))
    for path in sorted((root / "nvd").glob("*.json")):
        orjson.loads(path.read_bytes())
    return time.perf_counter() - start


def sbom_document(rng: random.Random, components: int, release: int) -> bytes:
    items = []
    for i in range(components):
        if i % 5 < 3:
            _eco, purl_type = ECOSYSTEMS[i % len(ECOSYSTEMS)]
            name = f"pkg{rng.randrange(15000)}"
            ns = "debian/" if purl_type == "deb" else ""
            qual = "?distro=debian-12" if purl_type == "deb" else ""
            purl = f"pkg:{purl_type}/{ns}{name}@{version(rng)}{qual}"
            items.append(
                {"type": "library", "bom-ref": f"c{i}", "name": name, "version": "x", "purl": purl}
            )
        else:
            vendor = rng.randrange(VENDORS)
            v = version(rng)
            items.append(
                {
                    "type": "library",
                    "bom-ref": f"c{i}",
                    "name": f"product{vendor}",
                    "version": v,
                    "cpe": f"cpe:2.3:a:vendor{vendor}:product{vendor}:{v}:*:*:*:*:*:*:*",
                }
            )
    return orjson.dumps(
        {
            "bomFormat": "CycloneDX",
            "specVersion": "1.6",
            "version": 1,
            "serialNumber": f"urn:uuid:00000000-0000-4000-8000-{release:012d}",
            "metadata": {
                "timestamp": "2026-11-01T00:00:00Z",
                "component": {
                    "type": "firmware",
                    "bom-ref": "fw",
                    "name": "Bench firmware",
                    "version": str(release),
                },
            },
            "components": items,
        }
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--vulns", type=int, default=100_000)
    parser.add_argument("--releases", type=int, default=100)
    parser.add_argument("--components", type=int, default=1000)
    args = parser.parse_args()
    rng = random.Random(20261129)
    with tempfile.TemporaryDirectory(prefix="fleetcare-bench-") as tmp:
        root = Path(tmp)
        os.environ["FLEETCARE_DATA_DIR"] = str(root / "data")
        (root / "data").mkdir()
        os.environ["FLEETCARE_LOG_LEVEL"] = "WARNING"
        t = time.perf_counter()
        osv_count, nvd_count = write_feeds(root / "feeds", args.vulns, rng)
        print(
            f"generated {osv_count:,} OSV + {nvd_count:,} NVD records in {time.perf_counter() - t:.1f} s"
        )

        from fleetcare import wiring
        from fleetcare.core import migrations
        from fleetcare.core.auth import system_principal
        from fleetcare.core.db import Database
        from fleetcare.core.settings import get_settings
        from fleetcare.intel import service as intel
        from fleetcare.intel import store
        from fleetcare.matching import engine
        from fleetcare.matching import service as matching
        from fleetcare.portfolio import service as portfolio
        from fleetcare.portfolio.schemas import ProductIn, ReleaseIn
        from fleetcare.sbom import service as sbom

        wiring.connect()
        db = Database(get_settings().resolved_database_url)
        migrations.upgrade(db.engine)
        actor = system_principal("bench", via="cli")

        baseline = min(decode_only(root / "feeds") for _ in range(2))
        t = time.perf_counter()
        with db.session() as session:
            intel.sync(session, "osv", root / "feeds" / "osv")
            intel.sync(session, "nvd", root / "feeds" / "nvd")
            session.commit()
        imported = time.perf_counter() - t
        total = osv_count + nvd_count
        print(f"decode only (orjson, baseline)   {total / baseline:10,.0f} records/s")
        print(
            f"import into the store (SQLite)   {total / imported:10,.0f} records/s   "
            f"({imported:.1f} s; ratio to decoding {baseline / imported:.3f})"
        )

        with db.session() as session:
            product = portfolio.create_product(
                session,
                ProductIn(
                    name="Bench Router", placed_on_market="2026-01-01", support_end="2034-01-01"
                ),
                actor=actor,
            )
            for r in range(args.releases):
                portfolio.create_release(
                    session,
                    product.id,
                    ReleaseIn(
                        version=f"1.{r}.0",
                        release_date="2026-02-01",
                        kind="security",
                        status="released",
                    ),
                    actor=actor,
                )
            session.commit()

        documents = [sbom_document(rng, args.components, r) for r in range(args.releases)]
        # One release, timed apart: parse + store + index + match, as an upload does.
        t = time.perf_counter()
        with db.session() as session:
            sbom.import_sbom(session, product.id, "1.0.0", documents[0], actor=actor)
            session.commit()
        upload = time.perf_counter() - t
        with db.session() as session:
            release_id = portfolio.get_release(session, product.id, "1.0.0").id
            rows = sbom.component_rows(session, release_ids=[release_id])
            keys: set[str] = set()
            for row in rows:
                keys |= engine.component_keys(
                    row.purl or None, row.cpe or None, row.name, row.version
                )
            t = time.perf_counter()
            candidates = store.candidate_rows(session, keys)
            store.record_payloads(session, [c[0] for c in candidates])
            lookup = time.perf_counter() - t
            engine._record_cache.clear()
            t = time.perf_counter()
            cold = matching.match_release(session, release_id)
            cold_s = time.perf_counter() - t
            t = time.perf_counter()
            matching.match_release(session, release_id)
            warm_s = time.perf_counter() - t
            session.rollback()
        print(
            f"candidate lookup only (baseline) {lookup * 1000:10.0f} ms   "
            f"({len(candidates):,} candidate records for {len(rows):,} components)"
        )
        print(
            f"match 1 release, cold cache      {cold_s * 1000:10.0f} ms   "
            f"(ratio to lookup {cold_s / lookup:.1f}; {cold.matched} findings; target < 1000 ms)"
        )
        print(
            f"match 1 release, warm cache      {warm_s * 1000:10.0f} ms   (ratio to lookup {warm_s / lookup:.1f})"
        )
        print(f"SBOM upload incl. parse+match    {upload * 1000:10.0f} ms")

        t = time.perf_counter()
        with db.session() as session:
            for r in range(1, args.releases):
                sbom.import_sbom(session, product.id, f"1.{r}.0", documents[r], actor=actor)
            session.commit()
        print(
            f"upload {args.releases - 1} more SBOMs              {time.perf_counter() - t:10.1f} s"
        )
        for reindex in (False, True):
            engine._record_cache.clear()
            t = time.perf_counter()
            with db.session() as session:
                run = matching.match_all(session, reindex=reindex)
                session.commit()
            full = time.perf_counter() - t
            label = "with re-indexing" if reindex else "keys kept"
            print(
                f"full re-match of {args.releases} releases     {full:10.1f} s   "
                f"({label}; {run.components:,} components, {run.matched:,} findings; target < 30 s)"
            )
        print(
            f"peak RSS of this process         {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:10.0f} MiB (import, uploads, re-matches)"
        )

        sbom_file = root / "one.cdx.json"
        sbom_file.write_bytes(documents[0])
        t = time.perf_counter()
        child = subprocess.run(
            [
                sys.executable,
                "-c",
                "import resource, sys\n"
                "from pathlib import Path\n"
                "from fleetcare.matching.scan import load_feeds, scan\n"
                "from fleetcare.sbom.parse import parse_sbom_file\n"
                "found = scan(parse_sbom_file(sys.argv[1]), load_feeds(Path(sys.argv[2])))\n"
                "hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM')][0].split()[1]\n"
                "print(len(found), hwm)\n",
                str(sbom_file),
                str(root / "feeds"),
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        findings, peak_kib = child.stdout.split()
        print(
            f"standalone scan (files, no DB)   {time.perf_counter() - t:10.1f} s   "
            f"peak RSS {int(peak_kib) / 1024:.0f} MiB ({findings} findings; target < 1024 MiB)"
        )


if __name__ == "__main__":
    main()
