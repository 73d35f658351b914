"""Parsing OSV and NVD feeds into records, as a ratio to only decoding the same files with orjson.

The input is synthetic but shaped like the real thing: 60,000 OSV records made from the real
samples in tests/fixtures/intel/osv (new ids, versions, dates and CVSS vectors drawn from every
v3.1 base combination), written one file each and as one all.zip; and 60,000 NVD CVEs made
from the real NVD samples, written as API pages of 2,000. Everything lives in a temporary
directory that is removed afterwards. Each figure is the best of three runs; the CVSS score
cache is emptied before every parsing run, so every run pays for scoring its vectors.

    python -m bench feeds_parse
"""

from __future__ import annotations

import copy
import itertools
import json
import random
import tempfile
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

from fleetcare.intel.feeds import nvd, osv
from fleetcare.intel.feeds._cvss import base_score

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "intel"
RECORDS = 60_000
NVD_PAGE = 2_000
RUNS = 3

_V3_METRICS = [
    ("AV", "NALP"),
    ("AC", "LH"),
    ("PR", "NLH"),
    ("UI", "NR"),
    ("S", "UC"),
    ("C", "NLH"),
    ("I", "NLH"),
    ("A", "NLH"),
]


def cvss31_vectors() -> list[str]:
    """Every CVSS 3.1 base vector (2,592 of them)."""
    names = [name for name, _ in _V3_METRICS]
    return [
        "CVSS:3.1/" + "/".join(f"{n}:{v}" for n, v in zip(names, values, strict=True))
        for values in itertools.product(*(choices for _, choices in _V3_METRICS))
    ]


def osv_templates() -> list[dict[str, Any]]:
    return [json.loads(p.read_text()) for p in sorted((FIXTURES / "osv").glob("*.json"))]


def nvd_templates() -> list[dict[str, Any]]:
    templates = []
    for path in sorted((FIXTURES / "nvd" / "cve-api-2.0").glob("*.json")):
        document = json.loads(path.read_text())
        templates.append(document.get("cve", document))
    return templates


def synthetic_osv(n: int, rng: random.Random, vectors: list[str]) -> dict[str, Any]:
    record = copy.deepcopy(rng.choice(OSV_TEMPLATES))
    record["id"] = f"BENCH-{n:06d}"
    record["modified"] = f"2025-{1 + n % 12:02d}-{1 + n % 28:02d}T10:{n % 60:02d}:00Z"
    record["aliases"] = [f"CVE-2025-{100000 + n}"]
    record["severity"] = [{"type": "CVSS_V3", "score": rng.choice(vectors)}]
    for affected in record.get("affected") or []:
        for version_range in affected.get("ranges", []):
            for event in version_range["events"]:
                if "fixed" in event and version_range["type"] != "GIT":
                    event["fixed"] = f"{rng.randint(0, 9)}.{rng.randint(0, 30)}.{n % 100}"
    return record


def synthetic_cve(n: int, rng: random.Random, vectors: list[str]) -> dict[str, Any]:
    cve = copy.deepcopy(rng.choice(NVD_TEMPLATES))
    cve["id"] = f"CVE-2025-{100000 + n}"
    cve["lastModified"] = f"2025-{1 + n % 12:02d}-{1 + n % 28:02d}T10:{n % 60:02d}:00.000"
    metrics = cve.get("metrics") or {}
    for metric in metrics.get("cvssMetricV31", []):
        vector = rng.choice(vectors)
        metric["cvssData"]["vectorString"] = vector
        metric["cvssData"]["baseScore"] = base_score("CVSS_V3", vector)
    return cve


def write_inputs(root: Path) -> tuple[Path, Path, Path]:
    rng = random.Random(2847)  # the CRA's regulation number, for a fixed sequence
    vectors = cvss31_vectors()
    osv_dir = root / "osv"
    osv_dir.mkdir()
    osv_zip = root / "all.zip"
    with zipfile.ZipFile(osv_zip, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for n in range(RECORDS):
            content = orjson.dumps(synthetic_osv(n, rng, vectors))
            (osv_dir / f"BENCH-{n:06d}.json").write_bytes(content)
            archive.writestr(f"BENCH-{n:06d}.json", content)
    nvd_dir = root / "nvd"
    nvd_dir.mkdir()
    for start in range(0, RECORDS, NVD_PAGE):
        page = {
            "resultsPerPage": NVD_PAGE,
            "startIndex": start,
            "totalResults": RECORDS,
            "format": "NVD_CVE",
            "version": "2.0",
            "timestamp": "2025-08-25T12:00:00.000",
            "vulnerabilities": [
                {"cve": synthetic_cve(n, rng, vectors)} for n in range(start, start + NVD_PAGE)
            ],
        }
        (nvd_dir / f"nvd-{start:07d}.json").write_bytes(orjson.dumps(page))
    return osv_dir, osv_zip, nvd_dir


def best_of(runs: int, work: Callable[[], int]) -> tuple[float, int]:
    best = float("inf")
    count = 0
    for _ in range(runs):
        base_score.cache_clear()
        started = time.perf_counter()
        count = work()
        best = min(best, time.perf_counter() - started)
    return best, count


def decode_files(directory: Path) -> int:
    count = 0
    for path in sorted(directory.glob("*.json")):
        document = orjson.loads(path.read_bytes())
        count += len(document["vulnerabilities"]) if "vulnerabilities" in document else 1
    return count


def decode_zip(path: Path) -> int:
    count = 0
    with zipfile.ZipFile(path) as archive:
        for member in archive.infolist():
            orjson.loads(archive.read(member))
            count += 1
    return count


def report(label: str, baseline: tuple[float, int], parsed: tuple[float, int]) -> None:
    (base_seconds, base_count), (seconds, count) = baseline, parsed
    assert base_count == count == RECORDS, (base_count, count)
    print(
        f"{label:<34} orjson.loads only: {count / base_seconds:>9,.0f} records/s   "
        f"parse to records: {count / seconds:>9,.0f} records/s   "
        f"ratio parse/orjson: {seconds / base_seconds:.2f}x time"
    )


OSV_TEMPLATES = osv_templates()
NVD_TEMPLATES = nvd_templates()


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="fleetcare-bench-") as tmp:
        started = time.perf_counter()
        osv_dir, osv_zip, nvd_dir = write_inputs(Path(tmp))
        print(
            f"generated {RECORDS:,} OSV records (files and all.zip) and {RECORDS:,} NVD CVEs "
            f"({RECORDS // NVD_PAGE} API pages) in {time.perf_counter() - started:.1f}s"
        )
        report(
            "OSV, one file per record",
            best_of(RUNS, lambda: decode_files(osv_dir)),
            best_of(RUNS, lambda: sum(1 for _ in osv.iter_records(osv_dir, warnings=[]))),
        )
        report(
            "OSV, all.zip",
            best_of(RUNS, lambda: decode_zip(osv_zip)),
            best_of(RUNS, lambda: sum(1 for _ in osv.iter_records(osv_zip, warnings=[]))),
        )
        report(
            "NVD, API pages of 2,000",
            best_of(RUNS, lambda: decode_files(nvd_dir)),
            best_of(RUNS, lambda: sum(1 for _ in nvd.iter_records(nvd_dir, warnings=[]))),
        )


if __name__ == "__main__":
    main()
