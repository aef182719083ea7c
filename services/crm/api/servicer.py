"""CustomerHistoryService: translates each call to one application use case."""

from __future__ import annotations

from collections.abc import Iterator
from uuid import UUID

import grpc
from crm.v1 import channel_pb2, customer_history_service_pb2_grpc
from crm.v1 import customer_history_service_pb2 as pb

from services.crm import wire
from services.crm.api import mapping, page_tokens
from services.crm.api.caller import ACTOR_HEADER, cause_of
from services.crm.api.control_characters import control_character_violations
from services.crm.api.errors import CallerUnauthenticatedError
from services.crm.api.watchers import StreamLimit, TooManyReplaysError
from services.crm.application import CustomerHistory
from services.crm.application.auditing import LoggedEvent
from services.crm.application.importing import ImportItem
from services.crm.domain.cause import subject_of
from services.crm.domain.channels import Channel, Direction
from services.crm.domain.errors import CrmError, InvalidInputError, Violations, field_prefix
from services.crm.domain.identity import Identity
from services.crm.domain.identity_index import UnlinkKind
from services.crm.domain.interaction import InteractionContent
from services.crm.domain.note import check_note_text
from services.crm.projections.directory_store import NameCursor
from services.crm.projections.timeline_store import TimelineCursor, TimelineQuery

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 500
MAX_REQUEST_ID_CHARS = 128
MAX_PAGE_BYTES = 3 * 1024 * 1024
MAX_EVIDENCE_CHARS = 500
DEFAULT_SEARCH_PAGE_SIZE = 20
MAX_SEARCH_PAGE_SIZE = 100
DEFAULT_SUGGESTIONS = 50
MAX_SUGGESTIONS = 200
MAX_IMPORT_BATCH = 1_000
DEFAULT_REPLAY_PAGE = 500
MAX_REPLAY_PAGE = 2_000


class CustomerHistoryServicer(customer_history_service_pb2_grpc.CustomerHistoryServiceServicer):
    def __init__(
        self,
        app: CustomerHistory,
        phone_region: str = "",
        max_read_wait_seconds: float = 5.0,
        max_watchers: int = 64,
        max_watchers_per_caller: int = 8,
        max_replays: int = 4,
    ) -> None:
        self.app = app
        self.watchers = StreamLimit(max_watchers, max_watchers_per_caller)
        # Replays have slots of their own, so auditors are never refused for watches.
        self.replays = StreamLimit(max_replays, refusal=TooManyReplaysError)
        self.phone_region = phone_region
        self.max_read_wait_seconds = max_read_wait_seconds

    def RecordInteraction(
        self, request: pb.RecordInteractionRequest, context: grpc.ServicerContext
    ) -> pb.RecordInteractionResponse:
        cause = cause_of(context)
        problems = Violations()
        with problems.collect():
            _check_request_id(request.request_id)
        target, content = self._recording(request, problems)
        with field_prefix("interaction"):
            result = self.app.record_interaction(
                target,
                content,
                cause,
                request.request_id,
                time_given=request.interaction.HasField("occurred_time"),
                display_name=mapping.sender_name(request),
            )
        return pb.RecordInteractionResponse(
            interaction=wire.interaction_to_proto(result.interaction),
            commit_position=result.position,
            customer_created=result.customer_created,
            warnings=mapping.identity_warnings(result.interaction.identity, "identity"),
        )

    def CreateCustomer(
        self, request: pb.CreateCustomerRequest, context: grpc.ServicerContext
    ) -> pb.CreateCustomerResponse:
        cause = cause_of(context)
        problems = Violations()
        identities: list[Identity] = []
        with problems.collect("customer"):
            profile = mapping.profile_from_proto(request.customer)
        for index, identity in enumerate(request.customer.identities):
            with problems.collect(f"customer.identities[{index}]"):
                identities.append(mapping.identity_from_proto(identity, self.phone_region))
        with problems.collect():
            _check_request_id(request.request_id)
        problems.raise_if_any()
        result = self.app.create_customer(profile, identities, cause, request.request_id)
        return pb.CreateCustomerResponse(
            customer=mapping.customer_to_proto(result.customer),
            commit_position=result.position,
            warnings=[
                warning
                for index, identity in enumerate(identities)
                for warning in mapping.identity_warnings(identity, f"customer.identities[{index}]")
            ],
        )

    def GetCustomer(
        self, request: pb.GetCustomerRequest, context: grpc.ServicerContext
    ) -> pb.GetCustomerResponse:
        view = self.app.view_customer(mapping.customer_id(request.name, "name"))
        redirected = view.redirected_from
        return pb.GetCustomerResponse(
            customer=mapping.customer_to_proto(view),
            redirected_from=wire.customer_name(redirected) if redirected else "",
        )

    def UpdateCustomer(
        self, request: pb.UpdateCustomerRequest, context: grpc.ServicerContext
    ) -> pb.UpdateCustomerResponse:
        problems = Violations()
        with problems.collect():
            cause = cause_of(context, reason=request.reason)
        with problems.collect():
            customer_id = mapping.customer_id(request.customer.name, "customer.name")
        with problems.collect():
            fields, profile = mapping.profile_update_from_proto(
                request.customer, request.update_mask
            )
        with problems.collect():
            _check_request_id(request.request_id)
        problems.raise_if_any()
        result = self.app.update_customer(
            customer_id, profile, fields, request.customer.etag, cause, request.request_id
        )
        return pb.UpdateCustomerResponse(
            customer=mapping.customer_to_proto(result.customer), commit_position=result.position
        )

    def LinkIdentity(
        self, request: pb.LinkIdentityRequest, context: grpc.ServicerContext
    ) -> pb.LinkIdentityResponse:
        problems = Violations()
        with problems.collect():
            cause = cause_of(context, reason=request.reason)
        customer_id, identity = self._customer_and_identity(request, problems)
        result = self.app.link_identity(customer_id, identity, cause)
        return pb.LinkIdentityResponse(
            customer=mapping.customer_to_proto(result.customer),
            commit_position=result.position,
            warnings=mapping.identity_warnings(identity, "identity"),
        )

    def UnlinkIdentity(
        self, request: pb.UnlinkIdentityRequest, context: grpc.ServicerContext
    ) -> pb.UnlinkIdentityResponse:
        problems = Violations()
        with problems.collect():
            cause = cause_of(context, reason=request.reason)
        with problems.collect():
            kind = mapping.enum_value(
                pb.UnlinkKind, "UNLINK_KIND", request.kind, UnlinkKind, "kind"
            )
        customer_id, identity = self._customer_and_identity(request, problems)
        result = self.app.unlink_identity(customer_id, identity, kind, cause)
        return pb.UnlinkIdentityResponse(
            customer=mapping.customer_to_proto(result.customer), commit_position=result.position
        )

    def MergeCustomers(
        self, request: pb.MergeCustomersRequest, context: grpc.ServicerContext
    ) -> pb.MergeCustomersResponse:
        problems = Violations()
        with problems.collect():
            cause = cause_of(context, reason=request.reason)
        with problems.collect():
            source = mapping.customer_id(request.source, "source")
        with problems.collect():
            target = mapping.customer_id(request.target, "target")
        problems.check(
            len(request.evidence) <= MAX_EVIDENCE_CHARS,
            "evidence",
            "EVIDENCE_TOO_LONG",
            f"at most {MAX_EVIDENCE_CHARS} characters",
        )
        problems.raise_if_any()
        result = self.app.merge_customers(source, target, request.evidence, cause)
        return pb.MergeCustomersResponse(
            customer=mapping.customer_to_proto(result.customer), commit_position=result.position
        )

    def UnmergeCustomer(
        self, request: pb.UnmergeCustomerRequest, context: grpc.ServicerContext
    ) -> pb.UnmergeCustomerResponse:
        problems = Violations()
        with problems.collect():
            cause = cause_of(context, reason=request.reason)
        with problems.collect():
            customer_id = mapping.customer_id(request.customer, "customer")
        problems.raise_if_any()
        result = self.app.unmerge_customer(customer_id, cause)
        return pb.UnmergeCustomerResponse(
            customer=mapping.customer_to_proto(result.customer), commit_position=result.position
        )

    def FindCustomerByIdentity(
        self, request: pb.FindCustomerByIdentityRequest, context: grpc.ServicerContext
    ) -> pb.FindCustomerByIdentityResponse:
        with field_prefix("identity"):
            identity = mapping.identity_from_proto(request.identity, self.phone_region)
        customer = self.app.find_customer(identity)
        return pb.FindCustomerByIdentityResponse(customer=mapping.customer_to_proto(customer))

    def GetTimeline(
        self, request: pb.GetTimelineRequest, context: grpc.ServicerContext
    ) -> pb.GetTimelineResponse:
        query, fingerprint = self._timeline_query(request)
        page = self.app.timeline_page(query, request.min_position, self._read_wait(context))
        response = pb.GetTimelineResponse(position=page.position)
        included = size = 0
        for entry in page.entries:
            added = mapping.timeline_entry_to_proto(entry)
            # Long transcripts add up: end the page early rather than exceed what a
            # client accepts by default. A running total, as ByteSize() of the whole
            # response each time would be quadratic.
            size += added.ByteSize() + 16
            if included and size > MAX_PAGE_BYTES:
                break
            response.entries.append(added)
            included += 1
        has_more = page.has_more or included < len(page.entries)
        if has_more and included:
            last = page.entries[included - 1]
            response.next_page_token = page_tokens.encode(
                TimelineCursor(last.occurred_at, last.entry_id), fingerprint
            )
        return response

    def AddNote(
        self, request: pb.AddNoteRequest, context: grpc.ServicerContext
    ) -> pb.AddNoteResponse:
        cause = cause_of(context)
        problems = Violations()
        with problems.collect():
            customer_id = mapping.customer_id(request.customer, "customer")
        with problems.collect():
            check_note_text(request.note.text)  # Again in the use case; here to list it too.
        with problems.collect():
            _check_request_id(request.request_id)
        problems.raise_if_any()
        result = self.app.add_note(customer_id, request.note.text, cause, request.request_id)
        return pb.AddNoteResponse(
            note=wire.note_to_proto(result.note), commit_position=result.position
        )

    def WatchTimeline(
        self, request: pb.WatchTimelineRequest, context: grpc.ServicerContext
    ) -> Iterator[pb.WatchTimelineResponse]:
        customer_id = mapping.customer_id(request.customer, "customer")
        if request.after_position < 0:
            raise InvalidInputError.single(
                "after_position", "INVALID_POSITION", "must not be negative"
            )
        with self.watchers.admit(_caller_of(context)):
            entries = self.app.watch_timeline(
                customer_id, request.after_position, context.is_active
            )
            # Headers now tell the client the watch is accepted, before any entry comes.
            context.send_initial_metadata(())
            for entry in entries:
                yield pb.WatchTimelineResponse(entry=mapping.timeline_entry_to_proto(entry))

    def ReplayEvents(
        self, request: pb.ReplayEventsRequest, context: grpc.ServicerContext
    ) -> Iterator[pb.ReplayEventsResponse]:
        if request.page_size < 0:
            raise InvalidInputError.single("page_size", "INVALID_PAGE_SIZE", "must not be negative")
        page_size = min(request.page_size or DEFAULT_REPLAY_PAGE, MAX_REPLAY_PAGE)
        with self.replays.admit():
            pages = self.app.replay(
                request.after_position, request.up_to_position, page_size, context.is_active
            )
            context.send_initial_metadata(())
            for page in pages:
                yield from _replay_messages(page)

    def SearchCustomers(
        self, request: pb.SearchCustomersRequest, context: grpc.ServicerContext
    ) -> pb.SearchCustomersResponse:
        problems = Violations()
        problems.check(
            request.page_size >= 0, "page_size", "INVALID_PAGE_SIZE", "must not be negative"
        )
        problems.check(
            request.min_position >= 0, "min_position", "INVALID_POSITION", "must not be negative"
        )
        problems.raise_if_any()
        wait = self._read_wait(context)
        which = request.WhichOneof("query")
        if which == "identity":
            with field_prefix("identity"):
                identity = mapping.identity_from_proto(request.identity, self.phone_region)
            found = self.app.search_by_identity(identity, request.min_position, wait)
            customers = [mapping.directory_entry_to_proto(found)] if found else []
            return pb.SearchCustomersResponse(customers=customers)
        if which != "name":
            raise InvalidInputError.single("query", "QUERY_REQUIRED", "set name or identity")
        limit = min(request.page_size or DEFAULT_SEARCH_PAGE_SIZE, MAX_SEARCH_PAGE_SIZE)
        fingerprint = page_tokens.query_fingerprint("name", request.name)
        after = page_tokens.decode_name(request.page_token, fingerprint)
        found_page = self.app.search_by_name(
            request.name, limit + 1, after, request.min_position, wait
        )
        response = pb.SearchCustomersResponse(
            customers=[mapping.directory_entry_to_proto(entry) for entry in found_page[:limit]]
        )
        if len(found_page) > limit:
            last = found_page[limit - 1]
            response.next_page_token = page_tokens.encode(
                NameCursor(last.sort_name, last.customer_id), fingerprint
            )
        return response

    def ListMergeSuggestions(
        self, request: pb.ListMergeSuggestionsRequest, context: grpc.ServicerContext
    ) -> pb.ListMergeSuggestionsResponse:
        if request.page_size < 0:
            raise InvalidInputError.single("page_size", "INVALID_PAGE_SIZE", "must not be negative")
        limit = min(request.page_size or DEFAULT_SUGGESTIONS, MAX_SUGGESTIONS)
        return pb.ListMergeSuggestionsResponse(
            suggestions=[
                pb.MergeSuggestion(
                    customers=[wire.customer_name(s.first), wire.customer_name(s.second)],
                    rule=s.rule,
                    evidence=s.evidence,
                )
                for s in self.app.merge_suggestions(limit)
            ]
        )

    def _read_wait(self, context: grpc.ServicerContext) -> float:
        """How long a read may wait for a position: the deadline, within the cap."""
        remaining = context.time_remaining()
        wait = min(self.max_read_wait_seconds, remaining if remaining is not None else float("inf"))
        return max(wait - 0.05, 0.0)

    def _customer_and_identity(
        self,
        request: pb.LinkIdentityRequest | pb.UnlinkIdentityRequest,
        problems: Violations | None = None,
    ) -> tuple[UUID, Identity]:
        """Both fields, with any violations already found in the request."""
        problems = Violations() if problems is None else problems
        with problems.collect():
            customer_id = mapping.customer_id(request.customer, "customer")
        with problems.collect("identity"):
            identity = mapping.identity_from_proto(request.identity, self.phone_region)
        problems.raise_if_any()
        return customer_id, identity

    def ImportInteractions(
        self, request: pb.ImportInteractionsRequest, context: grpc.ServicerContext
    ) -> pb.ImportInteractionsResponse:
        cause = cause_of(context)
        if not 0 < len(request.interactions) <= MAX_IMPORT_BATCH:
            raise InvalidInputError.single(
                "interactions", "INVALID_BATCH_SIZE", f"send 1 to {MAX_IMPORT_BATCH} records"
            )
        items: list[tuple[int, ImportItem]] = []
        failures: dict[int, CrmError] = {}
        for index, record in enumerate(request.interactions):
            problems = Violations()
            for violation in control_character_violations(record):
                problems.add(violation.field, violation.reason, violation.description)
            problems.check(
                record.interaction.HasField("occurred_time"),
                "interaction.occurred_time",
                "OCCURRED_TIME_REQUIRED",
                "imported records must say when they happened",
            )
            try:
                items.append((index, ImportItem(*self._recording(record, problems))))
            except CrmError as error:
                failures[index] = error
        report = self.app.import_interactions(items, cause)
        failures |= report.failures
        return pb.ImportInteractionsResponse(
            imported_count=report.imported,
            already_imported_count=report.already_imported,
            failures=[mapping.import_failure(i, failures[i]) for i in sorted(failures)],
            commit_position=report.position,
        )

    def _recording(
        self, request: pb.RecordInteractionRequest, problems: Violations
    ) -> tuple[UUID | Identity, InteractionContent]:
        """The target and content of a record request; every violation at once."""
        target: UUID | Identity | None = None
        content: InteractionContent | None = None
        with problems.collect():
            target = self._target(request)
        with problems.collect("interaction"):
            if not request.HasField("interaction"):
                raise InvalidInputError.single("", "INTERACTION_REQUIRED", "must be set")
            content = mapping.content_from_proto(request.interaction, self.app.clock())
        problems.raise_if_any()
        assert target is not None
        assert content is not None
        return target, content

    def _target(self, request: pb.RecordInteractionRequest) -> UUID | Identity:
        which = request.WhichOneof("target")
        if which == "customer":
            return mapping.customer_id(request.customer, "customer")
        if which == "identity":
            with field_prefix("identity"):
                return mapping.identity_from_proto(request.identity, self.phone_region)
        raise InvalidInputError.single("target", "TARGET_REQUIRED", "set customer or identity")

    def _timeline_query(self, request: pb.GetTimelineRequest) -> tuple[TimelineQuery, str]:
        problems = Violations()
        with problems.collect():
            customer_id = mapping.customer_id(request.customer, "customer")
        problems.check(
            request.page_size >= 0, "page_size", "INVALID_PAGE_SIZE", "must not be negative"
        )
        problems.check(
            request.min_position >= 0, "min_position", "INVALID_POSITION", "must not be negative"
        )
        channels: set[Channel] = set()
        for index, number in enumerate(request.channels):
            with problems.collect():
                channels.add(
                    mapping.enum_value(
                        channel_pb2.Channel, "CHANNEL", number, Channel, f"channels[{index}]"
                    )
                )
        direction = None
        if request.direction:
            with problems.collect():
                direction = mapping.enum_value(
                    channel_pb2.Direction, "DIRECTION", request.direction, Direction, "direction"
                )
        start = end = None
        with problems.collect():
            if request.HasField("start_time"):
                start = mapping.timestamp_to_datetime(request.start_time, "start_time")
            if request.HasField("end_time"):
                end = mapping.timestamp_to_datetime(request.end_time, "end_time")
        problems.check(
            start is None or end is None or start < end,
            "end_time",
            "INVALID_TIME_RANGE",
            "must be after start_time",
        )
        problems.raise_if_any()
        fingerprint = page_tokens.query_fingerprint(
            customer_id, sorted(channels), direction, start, end
        )
        return (
            TimelineQuery(
                customer_id=customer_id,
                limit=min(request.page_size or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE),
                channels=frozenset(str(c) for c in channels),
                direction=str(direction) if direction else None,
                start=start,
                end=end,
                after=page_tokens.decode(request.page_token, fingerprint),
            ),
            fingerprint,
        )


def _caller_of(context: grpc.ServicerContext) -> str:
    """Whom a watch counts against: the actor the caller names, in the one spelling
    every event records ("" for callers that name none, who share one allowance)."""
    for key, value in context.invocation_metadata() or ():
        if key == ACTOR_HEADER and isinstance(value, str):
            if subject_of(value) is None:
                raise CallerUnauthenticatedError(
                    "INVALID_ACTOR", f"'{ACTOR_HEADER}' must be agent:{{id}} or service:{{name}}"
                )
            return value
    return ""


def _replay_messages(page: list[LoggedEvent]) -> Iterator[pb.ReplayEventsResponse]:
    """The page as messages of at most MAX_PAGE_BYTES: events hold up to 64 KiB of
    text each, and a client takes 4 MiB per message by default."""
    message, size = pb.ReplayEventsResponse(), 0
    for event in page:
        logged = mapping.logged_event_to_proto(event)
        # A running total: ByteSize() of the whole message each time would be quadratic.
        logged_size = logged.ByteSize() + 8
        if message.events and size + logged_size > MAX_PAGE_BYTES:
            yield message
            message, size = pb.ReplayEventsResponse(), 0
        message.events.append(logged)
        message.position = event.position
        size += logged_size
    if message.events:
        yield message


def _check_request_id(request_id: str) -> None:
    if len(request_id) > MAX_REQUEST_ID_CHARS or request_id != request_id.strip():
        raise InvalidInputError.single(
            "request_id",
            "INVALID_REQUEST_ID",
            f"at most {MAX_REQUEST_ID_CHARS} characters, no spaces around",
        )
