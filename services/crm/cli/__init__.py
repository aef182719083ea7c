"""Command-line clients of the running service."""
