"""Signed over-the-air updates: artifacts, the TUF repository, devices, rollouts, device API."""
