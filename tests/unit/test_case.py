"""The Case aggregate's rules, one by one, as the README's "Cases" section states them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from uuid import UUID

import pytest
from eventsourcing.domain import Snapshot
from eventsourcing.persistence import Mapper

from services.crm.domain.cases.case import Case
from services.crm.domain.cases.case_errors import (
    CaseClosedError,
    CaseNotEscalatedError,
    InvalidCaseTransitionError,
)
from services.crm.domain.cases.details import CaseDetails
from services.crm.domain.cases.priority import Priority
from services.crm.domain.cases.resolution import Resolution
from services.crm.domain.cases.routing import EscalationTarget, TargetKind
from services.crm.domain.cases.status import CaseStatus
from services.crm.domain.cases.timeline import ClockInstance, ClockKind, Pause
from services.crm.domain.channels import Direction
from services.crm.domain.errors import InvalidInputError
from services.crm.transcoder import crm_transcoder
from tests.case_builders import (
    REOPEN_WINDOW,
    T0,
    because,
    inbound,
    open_case,
    outbound,
    rebuilt,
)

HOUR = timedelta(hours=1)
FIRST_RESPONSE = ClockInstance(ClockKind.FIRST_RESPONSE, "first_response")
ANSWERED = Resolution("answered", "Replaced the router's power supply.")
SUPERVISORS = EscalationTarget.queue("supervisors")


def resolved_case() -> Case:
    case = open_case()
    case.assign("agent:ann", T0, because(""))
    case.resolve(ANSWERED, T0 + HOUR, because(""))
    return case


def test_a_case_opened_from_an_interaction_is_new_unescalated_and_links_it() -> None:
    call = inbound(T0)
    case = open_case(origin=call)
    assert case.status is CaseStatus.NEW
    assert (case.escalation_level, case.escalated_to, case.assignee) == (0, None, None)
    assert case.linked_interaction_ids == (call.interaction_id,)
    assert case.details.priority is Priority.NORMAL
    assert case.opened_at == case.updated_at == T0


def test_case_events_have_stable_topics_and_carry_their_cause() -> None:
    case = open_case()
    case.assign("agent:ann", T0, because(""))
    case.escalate(SUPERVISORS, T0, because("needs a refund approval", "agent:ann"))
    topics = [e.TOPIC for e in case.collect_events()]  # type: ignore[attr-defined]
    assert topics == ["crm.Case.Opened", "crm.Case.Assigned", "crm.Case.Escalated"]
    assert Case.SlaBreached.TOPIC == "crm.Case.SlaBreached"  # type: ignore[attr-defined]
    case.deescalate(T0, because("approved"))
    (deescalated,) = case.collect_events()
    assert isinstance(deescalated, Case.Deescalated)
    assert deescalated.cause == because("approved")


def test_assigning_a_new_case_opens_it_and_keeps_a_pending_one_pending() -> None:
    case = open_case()
    case.assign("agent:ann", T0, because(""), queue="tier1")
    assert (case.status, case.assignee, case.queue) == (CaseStatus.OPEN, "agent:ann", "tier1")
    case.wait_on_customer(T0 + HOUR, because(""))
    case.assign("agent:bob", T0 + 2 * HOUR, because(""))
    assert (case.status, case.assignee, case.queue) == (CaseStatus.PENDING, "agent:bob", "tier1")


def test_an_invalid_transition_names_the_current_and_requested_status() -> None:
    case = open_case()
    case.assign("agent:ann", T0, because(""))
    with pytest.raises(InvalidCaseTransitionError) as raised:
        case.close(T0, because(""))
    assert raised.value.reason == "INVALID_CASE_TRANSITION"
    assert raised.value.metadata["current"] == "open"
    assert raised.value.metadata["requested"] == "closed"
    assert case.collect_events()[-1].__class__ is Case.Assigned


@pytest.mark.parametrize("reason", ["", "   ", "\u200b"])
def test_an_escalation_needs_a_reason(reason: str) -> None:
    case = open_case()
    with pytest.raises(InvalidInputError) as raised:
        case.escalate(SUPERVISORS, T0, because(reason))
    assert raised.value.reason == "ESCALATION_REASON_REQUIRED"
    assert case.escalation_level == 0


def test_escalating_to_a_queue_leaves_it_unassigned_there_and_to_an_agent_assigns_it() -> None:
    case = open_case()
    case.assign("agent:ann", T0, because(""), queue="tier1")
    case.escalate(SUPERVISORS, T0, because("refund over the limit"))
    assert (case.escalation_level, case.queue, case.assignee) == (1, "supervisors", None)
    case.escalate(EscalationTarget.agent("agent:sue"), T0, because("legal question"), level=3)
    assert (case.escalation_level, case.queue, case.assignee) == (3, "supervisors", "agent:sue")
    assert case.escalated_to == EscalationTarget.agent("agent:sue")


def test_escalating_a_new_or_pending_case_opens_it() -> None:
    new = open_case()
    new.escalate(SUPERVISORS, T0, because("angry customer"))
    assert new.status is CaseStatus.OPEN
    pending = open_case()
    pending.assign("agent:ann", T0, because(""))
    pending.wait_on_customer(T0, because(""))
    pending.escalate(SUPERVISORS, T0 + HOUR, because("angry customer"))
    assert pending.status is CaseStatus.OPEN
    assert pending.pauses == [Pause(T0, T0 + HOUR)]


@pytest.mark.parametrize("level", [0, 1, 4])
def test_an_escalation_goes_above_the_current_level_and_at_most_to_level_3(level: int) -> None:
    case = open_case()
    case.escalate(SUPERVISORS, T0, because("stuck"))
    with pytest.raises(InvalidInputError) as raised:
        case.escalate(SUPERVISORS, T0, because("stuck"), level=level)
    assert raised.value.reason == "INVALID_ESCALATION_LEVEL"
    assert case.escalation_level == 1


def test_a_resolved_case_is_not_escalated_or_assigned_until_reopened() -> None:
    case = resolved_case()
    commands: list[Callable[[], None]] = [
        lambda: case.escalate(SUPERVISORS, T0, because("stuck")),
        lambda: case.assign("agent:bob", T0, because("")),
    ]
    for command in commands:
        with pytest.raises(InvalidCaseTransitionError) as raised:
            command()
        assert raised.value.metadata == {
            "case": f"cases/{case.id}",
            "current": "resolved",
            "requested": "open",
        }


def test_deescalating_returns_to_the_level_and_target_before_and_not_below_zero() -> None:
    case = open_case()
    case.assign("agent:ann", T0, because(""), queue="tier1")
    case.escalate(EscalationTarget.queue("tier2"), T0, because("technical"))
    case.escalate(SUPERVISORS, T0, because("refund"), level=3)
    case.deescalate(T0, because("refund approved"))
    assert (case.escalation_level, case.escalated_to) == (1, EscalationTarget.queue("tier2"))
    deescalated = case.collect_events()[-1]
    assert isinstance(deescalated, Case.Deescalated)
    assert deescalated.level == 1
    assert (case.queue, case.assignee) == ("tier2", None)
    case.deescalate(T0, because(""))
    assert (case.escalation_level, case.escalated_to) == (0, None)
    assert (case.queue, case.assignee) == ("tier1", "agent:ann")
    with pytest.raises(CaseNotEscalatedError) as raised:
        case.deescalate(T0, because(""))
    assert raised.value.reason == "CASE_NOT_ESCALATED"


def test_linking_the_same_interaction_twice_records_nothing_new() -> None:
    case = open_case()
    email = inbound(T0)
    case.link_interaction(email, T0, because(""), REOPEN_WINDOW)
    case.link_interaction(email, T0 + HOUR, because(""), REOPEN_WINDOW)
    assert case.linked_interaction_ids == (email.interaction_id,)
    assert [type(e) for e in case.collect_events()] == [Case.Opened, Case.InteractionLinked]


def test_pending_records_when_the_wait_on_the_customer_began_and_ended() -> None:
    case = open_case()
    case.assign("agent:ann", T0, because(""))
    case.wait_on_customer(T0 + HOUR, because("asked for the serial number"))
    assert (case.status, case.paused_since) == (CaseStatus.PENDING, T0 + HOUR)
    case.resume(T0 + 3 * HOUR, because(""))
    case.wait_on_customer(T0 + 4 * HOUR, because(""))
    assert case.pauses == [Pause(T0 + HOUR, T0 + 3 * HOUR), Pause(T0 + 4 * HOUR)]


def test_the_customer_writing_again_ends_the_wait_on_them() -> None:
    case = open_case()
    case.assign("agent:ann", T0, because(""))
    case.wait_on_customer(T0 + HOUR, because(""))
    case.link_interaction(outbound(T0 + 2 * HOUR), T0 + 2 * HOUR, because(""), REOPEN_WINDOW)
    case.link_interaction(inbound(T0), T0 + 2 * HOUR, because(""), REOPEN_WINDOW)
    assert case.status is CaseStatus.PENDING, "an agent's message or an older one is no reply"
    case.link_interaction(inbound(T0 + 2 * HOUR), T0 + 3 * HOUR, because(""), REOPEN_WINDOW)
    assert (case.status, case.paused_since) == (CaseStatus.OPEN, None)
    assert case.pauses == [Pause(T0 + HOUR, T0 + 3 * HOUR)]


def test_the_customer_writing_again_within_the_reopen_window_reopens_a_resolved_case() -> None:
    case = resolved_case()  # resolved at T0 + 1 h
    window = timedelta(hours=48)
    reply = inbound(T0 + HOUR + window)
    case.link_interaction(reply, T0 + 50 * HOUR, because("", "service:mailer"), window)
    assert (case.status, case.resolution, case.reopen_count) == (CaseStatus.OPEN, None, 1)
    reopened = case.collect_events()[-1]
    assert isinstance(reopened, Case.Reopened)
    assert reopened.interaction_id == reply.interaction_id
    assert reopened.cause.actor == "service:mailer"
    assert reopened.cause.reason == "the customer wrote again within the reopen window"


@pytest.mark.parametrize(
    "written_after_resolution",
    [timedelta(hours=48, seconds=1), timedelta(0), -HOUR],
    ids=["after-the-window", "at-resolution", "before-resolution"],
)
def test_a_message_outside_the_reopen_window_is_linked_but_does_not_reopen(
    written_after_resolution: timedelta,
) -> None:
    case = resolved_case()
    late = inbound(T0 + HOUR + written_after_resolution)
    case.link_interaction(late, T0 + 60 * HOUR, because(""), timedelta(hours=48))
    assert case.status is CaseStatus.RESOLVED
    assert late.interaction_id in case.linked_interaction_ids


def test_an_agent_reopens_a_resolved_case_and_it_counts() -> None:
    case = resolved_case()
    case.reopen(T0 + 2 * HOUR, because("the fix did not hold"))
    case.resolve(ANSWERED, T0 + 3 * HOUR, because(""))
    case.reopen(T0 + 4 * HOUR, because("again"))
    assert (case.status, case.reopen_count, case.resolved_at) == (CaseStatus.OPEN, 2, None)


def test_only_a_resolved_case_closes_and_a_closed_one_stays_closed() -> None:
    case = resolved_case()
    case.close(T0 + 2 * HOUR, because(""))
    assert (case.status, case.closed_at) == (CaseStatus.CLOSED, T0 + 2 * HOUR)
    assert case.resolution == ANSWERED
    with pytest.raises(InvalidCaseTransitionError) as raised:
        case.reopen(T0, because(""))
    assert (raised.value.current, raised.value.requested) == (CaseStatus.CLOSED, CaseStatus.OPEN)
    commands: list[Callable[[], None]] = [
        lambda: case.link_interaction(inbound(T0 + 3 * HOUR), T0, because(""), REOPEN_WINDOW),
        lambda: case.update(CaseDetails("New subject"), ("subject",), T0, because("")),
        lambda: case.deescalate(T0, because("")),
    ]
    for command in commands:
        with pytest.raises(CaseClosedError):
            command()


def test_an_update_records_only_the_fields_it_changes() -> None:
    case = open_case()
    given = CaseDetails("Router keeps dropping", "new text", "billing", Priority.URGENT)
    case.update(given, ("subject", "description", "priority"), T0 + HOUR, because(""))
    assert case.details == CaseDetails(
        "Router keeps dropping", "new text", "connectivity", Priority.URGENT
    )
    updated = case.collect_events()[-1]
    assert isinstance(updated, Case.Updated)
    assert updated.updated_fields == ("description", "priority")
    case.update(given, ("subject", "priority"), T0 + 2 * HOUR, because(""))
    assert case.collect_events() == []
    with pytest.raises(InvalidInputError) as raised:
        case.update(given, ("priority", "status"), T0, because(""))
    assert raised.value.reason == "FIELD_NOT_UPDATABLE"
    assert case.collect_events() == []


def test_a_breach_is_recorded_once_per_clock_instance() -> None:
    case = open_case()
    assert case.sla_breached(FIRST_RESPONSE, T0, T0, "deadline-1")
    assert not case.sla_breached(FIRST_RESPONSE, T0, T0 + HOUR, "deadline-1-retried")
    next_response = ClockInstance(ClockKind.NEXT_RESPONSE, "next_response/1")
    assert case.sla_breached(next_response, T0, T0, "deadline-2")
    breaches = [e for e in case.collect_events() if isinstance(e, Case.SlaBreached)]
    assert [b.clock for b in breaches] == [FIRST_RESPONSE, next_response]
    assert breaches[0].cause.actor == "service:sla"


def test_at_risk_is_recorded_once_per_clock_instance_and_not_after_its_breach() -> None:
    case = open_case()
    assert case.sla_at_risk(FIRST_RESPONSE, T0, T0, "c")
    assert not case.sla_at_risk(FIRST_RESPONSE, T0, T0, "c")
    resolution = ClockInstance(ClockKind.RESOLUTION, "resolution")
    case.sla_breached(resolution, T0, T0, "c")
    assert not case.sla_at_risk(resolution, T0, T0, "c")


def test_a_breach_auto_escalates_one_level_caused_by_the_sla_service() -> None:
    case = open_case()
    case.escalate(EscalationTarget.queue("tier2"), T0, because("technical"))
    case.sla_breached(FIRST_RESPONSE, T0, T0 + HOUR, "deadline-7", escalate_to=SUPERVISORS)
    assert (case.escalation_level, case.escalated_to) == (2, SUPERVISORS)
    escalated = case.collect_events()[-1]
    assert isinstance(escalated, Case.Escalated)
    assert escalated.cause.actor == "service:sla"
    assert escalated.cause.correlation_id == "deadline-7"
    assert escalated.cause.reason == "first_response SLA breached"


def test_a_breach_does_not_escalate_a_resolved_case_or_one_at_the_top_level() -> None:
    resolved = resolved_case()
    resolved.sla_breached(FIRST_RESPONSE, T0, T0, "c", escalate_to=SUPERVISORS)
    assert (resolved.status, resolved.escalation_level) == (CaseStatus.RESOLVED, 0)
    top = open_case()
    top.escalate(SUPERVISORS, T0, because("stuck"), level=3)
    top.sla_breached(FIRST_RESPONSE, T0, T0, "c", escalate_to=EscalationTarget.queue("tier2"))
    assert (top.escalation_level, top.escalated_to) == (3, SUPERVISORS)


def test_the_etag_changes_with_every_event() -> None:
    case = open_case()
    before = case.etag
    case.assign("agent:ann", T0, because(""))
    assert case.etag != before


def test_a_case_rebuilt_from_its_stored_events_equals_the_original() -> None:
    case = open_case(origin=inbound(T0))
    case.assign("agent:ann", T0, because(""), queue="tier1")
    case.wait_on_customer(T0 + HOUR, because(""))
    case.link_interaction(inbound(T0 + 2 * HOUR), T0 + 2 * HOUR, because(""), REOPEN_WINDOW)
    case.update(CaseDetails("Refund", priority=Priority.HIGH), ("priority",), T0, because(""))
    case.escalate(SUPERVISORS, T0 + 3 * HOUR, because("refund"))
    case.sla_at_risk(FIRST_RESPONSE, T0 + 4 * HOUR, T0 + 3 * HOUR, "c")
    case.sla_breached(FIRST_RESPONSE, T0 + 4 * HOUR, T0 + 4 * HOUR, "c", SUPERVISORS)
    case.deescalate(T0 + 5 * HOUR, because(""))
    case.resolve(ANSWERED, T0 + 6 * HOUR, because(""))
    case.reopen(T0 + 7 * HOUR, because("not fixed"))
    case.resolve(ANSWERED, T0 + 8 * HOUR, because(""))
    case.close(T0 + 9 * HOUR, because(""))
    copy = rebuilt(case.collect_events())
    assert copy == case
    assert copy.details.priority is Priority.HIGH
    assert copy.escalated_to == SUPERVISORS
    assert copy.escalated_to.kind is TargetKind.QUEUE
    assert [p.started_at for p in copy.pauses] == [T0 + HOUR]
    assert copy.links[0].direction is Direction.INBOUND


def test_case_values_are_validated() -> None:
    with pytest.raises(InvalidInputError) as raised:
        CaseDetails(" ", "d" * 10_001, "Not A Category")
    assert {v.reason for v in raised.value.violations} == {
        "INVALID_SUBJECT",
        "DESCRIPTION_TOO_LONG",
        "INVALID_CATEGORY",
    }
    with pytest.raises(InvalidInputError) as raised:
        Resolution("Fixed!", "")
    assert len(raised.value.violations) == 2
    with pytest.raises(InvalidInputError):
        EscalationTarget.agent("service:sla")
    with pytest.raises(InvalidInputError):
        EscalationTarget.queue("Supervisors Team")
    with pytest.raises(InvalidInputError):
        open_case().assign("ann", T0, because(""))


def test_a_case_restored_from_a_snapshot_keeps_its_rules() -> None:
    case = open_case()
    case.assign("agent:ann", T0, because(""))
    case.escalate(SUPERVISORS, T0, because("refund"))
    case.wait_on_customer(T0 + HOUR, because(""))
    case.collect_events()
    mapper: Mapper[UUID] = Mapper(transcoder=crm_transcoder())
    stored = mapper.to_stored_event(Snapshot.take(case))
    restored = mapper.to_domain_event(stored).mutate(None)  # type: ignore[attr-defined]
    assert restored == case
    with pytest.raises(InvalidCaseTransitionError) as raised:
        restored.close(T0, because(""))
    assert raised.value.current is CaseStatus.PENDING
    restored.link_interaction(inbound(T0 + 2 * HOUR), T0 + 2 * HOUR, because(""), REOPEN_WINDOW)
    assert restored.status == "open"
    assert restored.pauses == [Pause(T0 + HOUR, T0 + 2 * HOUR)]
    restored.deescalate(T0 + 3 * HOUR, because(""))
    assert restored.escalation_level == 0


def test_no_sla_event_is_recorded_while_pending_resolved_or_closed() -> None:
    """The clocks are paused while pending and stopped once resolved: a deadline that
    fires late records nothing, and escalates nothing."""
    pending = open_case()
    pending.assign("agent:ann", T0, because(""))
    pending.wait_on_customer(T0, because("asked for the meter reading"))
    closed = resolved_case()
    closed.close(T0, because(""))
    for case in (pending, resolved_case(), closed):
        assert case.collect_events()  # What it took to get there, set aside.
        assert not case.sla_at_risk(FIRST_RESPONSE, T0, T0 + HOUR, "late")
        assert not case.sla_breached(FIRST_RESPONSE, T0, T0 + HOUR, "late", SUPERVISORS)
        assert case.collect_events() == []
        assert case.escalation_level == 0
