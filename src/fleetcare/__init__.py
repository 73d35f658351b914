"""fleetcare: keep every connected product secure for its whole CRA support period."""

__version__ = "0.1.0"
