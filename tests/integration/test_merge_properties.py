"""Random sequences of interactions, links, unlinks (corrections and releases), merges
and unmerges: the timelines must always equal what a simple in-memory model says."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from services.crm.application import ConcurrentUpdateError, CustomerHistory
from services.crm.domain.errors import CrmError
from services.crm.domain.identity import Identity
from services.crm.domain.identity_index import UnlinkKind
from services.crm.domain.profile import CustomerProfile
from services.crm.projections.timeline_store import TimelineQuery
from tests import random_refs
from tests.builders import AGENT, content
from tests.integration.helpers import interactions, wait_caught_up

Op = tuple[Any, ...]
CUSTOMERS = 3
IDENTITIES = 2
# Half the unlinks name the holder itself (as HOLDER), so that many are accepted.
HOLDER = -1

operation = st.one_of(
    st.tuples(st.just("create_with"), st.integers(0, IDENTITIES - 1)),
    st.tuples(st.just("record_via"), st.integers(0, IDENTITIES - 1)),
    st.tuples(st.just("record_for"), st.integers(0, 5)),
    st.tuples(st.just("link"), st.integers(0, IDENTITIES - 1), st.integers(0, 5)),
    st.tuples(
        st.just("unlink"),
        st.integers(0, IDENTITIES - 1),
        st.one_of(st.just(HOLDER), st.integers(0, 5)),
        st.sampled_from([UnlinkKind.CORRECTION, UnlinkKind.RELEASE]),
    ),
    st.tuples(st.just("merge"), st.integers(0, 5), st.integers(0, 5)),
    st.tuples(st.just("unmerge"), st.integers(0, 5)),
)


@dataclass
class Model:
    """Who holds what and who points where. An identity's holders come in generations:
    a release closes one with its holder and opens the next, a correction changes the
    holder of the current one. An interaction belongs to the root of the holder of the
    generation it came through, else of the customer it was recorded for."""

    holder: dict[Identity, UUID | None] = field(default_factory=dict)
    generation: dict[Identity, int] = field(default_factory=dict)
    released: dict[tuple[Identity, int], UUID] = field(default_factory=dict)
    merged_into: dict[UUID, UUID | None] = field(default_factory=dict)
    recorded: dict[UUID, tuple[UUID, Identity | None, int]] = field(default_factory=dict)

    def root(self, customer: UUID) -> UUID:
        while (target := self.merged_into.get(customer)) is not None:
            customer = target
        return customer

    def owner(self, interaction: UUID) -> UUID:
        origin, via, generation = self.recorded[interaction]
        held_by = None
        if via is not None and generation == self.generation.get(via, 0):
            held_by = self.holder.get(via)
        elif via is not None:
            held_by = self.released[(via, generation)]
        return self.root(held_by or origin)

    def unlink_target(self, op: Op, customers: list[UUID], identities: list[Identity]) -> UUID:
        if op[2] == HOLDER:
            return self.holder.get(identities[op[1]]) or customers[0]
        return pick(customers, op[2])

    def unlink(self, identity: Identity, kind: UnlinkKind) -> None:
        if kind == UnlinkKind.RELEASE:
            generation = self.generation.get(identity, 0)
            held_by = self.holder[identity]
            assert held_by is not None
            self.released[(identity, generation)] = held_by
            self.generation[identity] = generation + 1
        self.holder[identity] = None

    def allows(self, op: Op, customers: list[UUID], identities: list[Identity]) -> bool:
        kind = op[0]
        if kind == "link":
            held = self.holder.get(identities[op[1]])
            return held is None or self.root(held) == self.root(pick(customers, op[2]))
        if kind == "unlink":
            held = self.holder.get(identities[op[1]])
            named = self.unlink_target(op, customers, identities)
            return held is not None and self.root(held) == self.root(named)
        if kind == "merge":
            source, target = pick(customers, op[1]), pick(customers, op[2])
            return self.merged_into.get(source) is None and self.root(target) != source
        if kind == "create_with":
            return self.holder.get(identities[op[1]]) is None
        if kind == "unmerge":
            return self.merged_into.get(pick(customers, op[1])) is not None
        return True


def pick(customers: list[UUID], index: int) -> UUID:
    """Customers created by first contacts join the ones ops can name."""
    return customers[index % len(customers)]


def apply(
    app: CustomerHistory, model: Model, op: Op, customers: list[UUID], identities: list[Identity]
) -> None:
    kind = op[0]
    if kind == "create_with":
        identity = identities[op[1]]
        created = app.create_customer(CustomerProfile("New"), [identity], AGENT, "").customer
        customers.append(created.id)
        model.holder[identity] = created.id
    elif kind == "record_via":
        identity = identities[op[1]]
        holder = model.holder.get(identity)
        result = app.record_interaction(identity, content(), AGENT, "")
        assert result.customer_created is (holder is None)
        if holder is None:
            holder = result.interaction.customer_id
            customers.append(holder)
            model.holder[identity] = holder
        model.recorded[result.interaction.id] = (
            holder,
            identity,
            model.generation.get(identity, 0),
        )
    elif kind == "record_for":
        result = app.record_interaction(pick(customers, op[1]), content(), AGENT, "")
        model.recorded[result.interaction.id] = (model.root(pick(customers, op[1])), None, 0)
    elif kind == "link":
        app.link_identity(pick(customers, op[2]), identities[op[1]], AGENT)
        model.holder.setdefault(identities[op[1]], None)
        if model.holder[identities[op[1]]] is None:
            model.holder[identities[op[1]]] = model.root(pick(customers, op[2]))
    elif kind == "unlink":
        named = model.unlink_target(op, customers, identities)
        app.unlink_identity(named, identities[op[1]], op[3], AGENT)
        model.unlink(identities[op[1]], op[3])
    elif kind == "merge":
        app.merge_customers(pick(customers, op[1]), pick(customers, op[2]), "", AGENT)
        model.merged_into[pick(customers, op[1])] = model.root(pick(customers, op[2]))
    else:
        app.unmerge_customer(pick(customers, op[1]), AGENT)
        model.merged_into[pick(customers, op[1])] = None


@pytest.mark.usefixtures("projection")
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(operations=st.lists(operation, min_size=4, max_size=20))
# A recycled number: the next holder starts empty; a corrected one: its history moves.
@example(
    operations=[("record_via", 0), ("unlink", 0, HOLDER, UnlinkKind.RELEASE), ("record_via", 0)]
)
@example(
    operations=[("record_via", 0), ("unlink", 0, HOLDER, UnlinkKind.CORRECTION), ("link", 0, 0)]
)
def test_timelines_match_the_model_after_any_sequence(
    app: CustomerHistory, operations: list[Op]
) -> None:
    customers = [
        app.create_customer(CustomerProfile(f"Customer {n}"), [], AGENT, "").customer.id
        for n in range(CUSTOMERS)
    ]
    identities = [Identity.email(random_refs.email()) for _ in range(IDENTITIES)]
    model = Model()
    for op in operations:
        allowed = model.allows(op, customers, identities)
        try:
            apply(app, model, op, customers, identities)
        except ConcurrentUpdateError:
            raise
        except CrmError:
            assert not allowed, f"{op} was refused but the model allows it"
        else:
            assert allowed, f"{op} was accepted but the model refuses it"

    wait_caught_up(app)
    for customer in {model.root(c) for c in customers}:
        page = app.timeline_page(TimelineQuery(customer, limit=1000), 0, 5.0)
        shown = {record.id for record in interactions(page)}
        expected = {i for i in model.recorded if model.owner(i) == customer}
        assert shown == expected
    for identity, held in model.holder.items():
        found = app.search_by_identity(identity, 0, 5.0)
        assert (found.customer_id if found else None) == (model.root(held) if held else None)
