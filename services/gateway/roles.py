"""Which role may call which RPC: the one table, denying whatever it does not list."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    AGENT = "agent"
    SUPERVISOR = "supervisor"
    AUDITOR = "auditor"
    SERVICE = "service"
    ADMIN = "admin"


_READERS = frozenset({Role.AGENT, Role.SUPERVISOR, Role.AUDITOR, Role.SERVICE, Role.ADMIN})
_RECORDERS = frozenset({Role.AGENT, Role.SUPERVISOR, Role.SERVICE, Role.ADMIN})
_IDENTITY_KEEPERS = frozenset({Role.AGENT, Role.SUPERVISOR, Role.ADMIN})

ALLOWED: dict[str, frozenset[Role]] = {
    "RecordInteraction": _RECORDERS,
    "CreateCustomer": _RECORDERS,
    "UpdateCustomer": _RECORDERS,
    # Bulk loads come from other systems, set up by whoever runs the CRM.
    "ImportInteractions": frozenset({Role.SERVICE, Role.ADMIN}),
    "GetCustomer": _READERS,
    "FindCustomerByIdentity": _READERS,
    "GetTimeline": _READERS,
    "WatchTimeline": _READERS,
    "AddNote": _RECORDERS,
    "SearchCustomers": _READERS,
    "LinkIdentity": _IDENTITY_KEEPERS,
    "UnlinkIdentity": _IDENTITY_KEEPERS,
    "MergeCustomers": _IDENTITY_KEEPERS,
    "ListMergeSuggestions": _IDENTITY_KEEPERS,
    # Undoing a merge rewrites what every agent sees: a supervisor's call.
    "UnmergeCustomer": frozenset({Role.SUPERVISOR, Role.ADMIN}),
    # The raw log holds every customer's data: for auditors, not for agents.
    "ReplayEvents": frozenset({Role.AUDITOR, Role.ADMIN}),
}


def may_call(role: Role, rpc: str) -> bool:
    return role in ALLOWED.get(rpc, frozenset())
