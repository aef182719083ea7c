"""Which generation of an identity a new timeline entry came through, and its home."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID, uuid4

from services.crm.projections.timeline_batch import Holders
from services.crm.projections.timeline_store import NewEntry

PHONE, ADA, BO = uuid4(), uuid4(), uuid4()


def entry(origin: UUID, via: UUID | None = PHONE) -> NewEntry:
    return NewEntry(uuid4(), origin, via, datetime.now(UTC), "phone", "inbound", b"", b"")


def test_an_entry_for_the_holder_comes_through_the_current_generation() -> None:
    holders = Holders(current={PHONE: (2, BO)}, released={PHONE: {0: ADA, 1: BO}})
    assert holders.place(entry(BO)) == (2, BO)


def test_an_entry_written_for_a_holder_who_has_since_released_stays_in_their_generation() -> None:
    holders = Holders(current={PHONE: (1, None)}, released={PHONE: {0: ADA}})
    assert holders.place(entry(ADA)) == (0, ADA)
    holders = Holders(current={PHONE: (3, BO)}, released={PHONE: {0: ADA, 1: BO, 2: ADA}})
    assert holders.place(entry(ADA)) == (2, ADA)


def test_an_entry_for_someone_who_never_held_the_identity_goes_to_its_holder() -> None:
    # A write that raced a correction: the identity was never theirs.
    holders = Holders(current={PHONE: (1, BO)}, released={PHONE: {0: BO}})
    assert holders.place(entry(ADA)) == (1, BO)
    assert Holders(current={PHONE: (0, None)}).place(entry(ADA)) == (0, ADA)


def test_an_entry_through_no_identity_stays_with_its_customer() -> None:
    assert Holders(current={PHONE: (1, BO)}).place(entry(ADA, via=None)) == (0, ADA)
