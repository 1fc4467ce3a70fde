"""Benchmarks of the whole kiosk: `kioskctl bench` drives a real headless kioskd and measures it from its events."""
