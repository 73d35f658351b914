"""CSAF 2.0 advisories: authoring, validation, publishing as a trusted provider, imports."""
