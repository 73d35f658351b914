"""SBOMs: read CycloneDX and SPDX into one model, grade it against BSI TR-03183-2, export it.

This package is pure: no database, no I/O beyond reading the file you name. The service layer
stores what `parse_sbom` returns and the matching engine reads its components.

    from fleetcare.sbom.export import to_cyclonedx_json
    from fleetcare.sbom.parse import parse_sbom
    from fleetcare.sbom.quality import assess

    sbom = parse_sbom(data)                  # raises SbomError (InvalidInput) on anything bad
    report = assess(sbom)                    # BSI TR-03183-2 v2.1 quality report
    report.to_dict()                         # for the API and the release page
    to_cyclonedx_json(sbom)                  # CycloneDX 1.6 JSON for customers

Public modules: `parse` (reading, format detection, limits), `model` (the normalised shapes),
`quality` (the BSI report), `export` (CycloneDX 1.6), `errors` (`SbomError`) and `cli`
(`fleetcare sbom`). Modules starting with an underscore are the format readers behind `parse`.
Nothing is re-exported here, so that `fleetcare --help` does not pay for importing the SBOM
libraries.
"""
