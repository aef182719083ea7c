"""Aggregates, events and rules of the customer history; no I/O, no protobuf."""
