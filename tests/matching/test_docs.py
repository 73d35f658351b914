"""The usage examples in the module docstrings run as written."""

from __future__ import annotations

import doctest

import pytest

from fleetcare.matching import purl, versions


@pytest.mark.parametrize("module", [versions, purl])
def test_docstring_examples(module):
    result = doctest.testmod(module)
    assert result.attempted > 0
    assert result.failed == 0
