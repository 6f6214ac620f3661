"""Salesforce access: connections, probes -> Snapshot, the concurrent sweep, the vendor org.

Everything here is core (no Textual). Import what you need from its module
(`juston_tui.salesforce.sweeper.sweep`, `.probe.probe_org`, `.facts.Facts`, ...): the package
itself imports nothing, so the pure modules (facts, checks, settings) that the screens need at
start-up never pull in requests or simple-salesforce.
"""
