"""Text as the PostgreSQL read models write it: NUL, which a PostgreSQL text value
cannot hold, becomes U+FFFD, so an event carrying one is still applied and its
customer stays findable by the rest of the name."""

from __future__ import annotations

import psycopg
from psycopg.adapt import AdaptersMap, Buffer
from psycopg.types.string import StrBinaryDumper, StrDumperUnknown

REPLACEMENT = "\ufffd"


class _NulEscapingDumper(StrDumperUnknown):
    def dump(self, obj: str) -> Buffer | None:
        return super().dump(obj.replace("\x00", REPLACEMENT) if "\x00" in obj else obj)


class _NulEscapingBinaryDumper(StrBinaryDumper):
    def dump(self, obj: str) -> Buffer | None:
        return super().dump(obj.replace("\x00", REPLACEMENT) if "\x00" in obj else obj)


def nul_escaping_adapters() -> AdaptersMap:
    """psycopg's adapters, with every str parameter escaped; for a connection's context."""
    adapters = AdaptersMap(psycopg.adapters)
    adapters.register_dumper(str, _NulEscapingBinaryDumper)
    # Registered last, so it stays the default for str, as psycopg's own text dumper is.
    adapters.register_dumper(str, _NulEscapingDumper)
    return adapters
