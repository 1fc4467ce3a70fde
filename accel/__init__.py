"""Execution providers and device probing; imports nothing from the rest of kioskd."""
