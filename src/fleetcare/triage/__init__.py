"""Triage: a VEX status for every finding, its history, SLAs, supplier VEX and VEX export."""
