"""Translation between crm.v1 messages and domain values, with field-level errors."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, TypeVar
from uuid import UUID

from crm.v1 import channel_pb2, customer_pb2, identity_pb2, interaction_pb2
from crm.v1 import customer_history_service_pb2 as service_pb2
from google.protobuf.duration_pb2 import Duration
from google.protobuf.field_mask_pb2 import FieldMask
from google.protobuf.timestamp_pb2 import Timestamp

from services.crm.application import CustomerView, TimelineEntry
from services.crm.application.auditing import LoggedEvent
from services.crm.domain.channels import (
    Channel,
    ChannelDetails,
    ChatDetails,
    ChatMessage,
    ChatSpeaker,
    Direction,
    EmailDetails,
    PhoneCallDetails,
    SocialDetails,
    SocialVisibility,
)
from services.crm.domain.errors import CrmError, InvalidInputError, Violations, field_prefix
from services.crm.domain.identity import Identity, IdentityKind, warning_of
from services.crm.domain.interaction import (
    MAX_CALL_SECONDS,
    InteractionContent,
    check_content,
    check_not_in_future,
)
from services.crm.domain.profile import CustomerProfile, fields_to_update, name_and_address
from services.crm.projections.directory_store import DirectoryEntry
from services.crm.wire import (
    customer_name,
    enum_number,
    identity_to_proto,
    timeline_item_to_proto,
    timestamp,
)

E = TypeVar("E", bound=StrEnum)


def customer_id(name: str, field: str) -> UUID:
    prefix, _, raw_id = name.partition("/")
    try:
        parsed = UUID(raw_id)
        # Only the canonical spelling, so one customer has exactly one name.
        if prefix != "customers" or str(parsed) != raw_id:
            raise ValueError(name)
        return parsed
    except ValueError:
        raise InvalidInputError.single(
            field, "INVALID_CUSTOMER_NAME", "must be a resource name 'customers/{uuid}'"
        ) from None


def enum_value(enum_type: Any, prefix: str, number: int, target: type[E], field: str) -> E:
    """Proto enum to domain enum by name: CHANNEL_EMAIL -> Channel.EMAIL."""
    try:
        name = enum_type.Name(number)
    except ValueError:
        raise InvalidInputError.single(
            field, f"UNKNOWN_{prefix}", f"{number} is not a known {prefix.lower()}"
        ) from None
    if name.endswith("_UNSPECIFIED"):
        raise InvalidInputError.single(field, f"{prefix}_REQUIRED", "must be specified")
    return target(name.removeprefix(f"{prefix}_").lower())


def identity_from_proto(message: identity_pb2.Identity, phone_region: str) -> Identity:
    kind = message.WhichOneof("kind")
    if kind == "email":
        return Identity.email(name_and_address(message.email)[1])
    if kind == "phone":
        return Identity.phone(message.phone, phone_region)
    if kind == "social":
        return Identity.social(message.social.platform, message.social.handle)
    if kind == "chat_visitor_id":
        return Identity.chat_visitor(message.chat_visitor_id)
    if kind == "external":
        return Identity.external(message.external.system, message.external.id)
    raise InvalidInputError.single("", "IDENTITY_REQUIRED", "set one of email, phone, social, ...")


def identity_warnings(identity: Identity | None, field: str) -> list[service_pb2.Warning]:
    """What the caller may want to check about an accepted identity in request field."""
    warning = warning_of(identity) if identity is not None else None
    if identity is None or warning is None:
        return []
    return [
        service_pb2.Warning(
            code=warning.code, field=f"{field}.{identity.kind}", description=warning.description
        )
    ]


def sender_name(request: service_pb2.RecordInteractionRequest) -> str:
    """The name an email identity came with, which a customer it creates takes."""
    if request.WhichOneof("target") != "identity" or request.identity.WhichOneof("kind") != "email":
        return ""
    return name_and_address(request.identity.email)[0]


def timestamp_to_datetime(stamp: Timestamp, field: str) -> datetime:
    try:
        return stamp.ToDatetime(tzinfo=UTC)
    except (ValueError, OverflowError):
        raise InvalidInputError.single(
            field, "INVALID_TIMESTAMP", "not a valid timestamp"
        ) from None


def content_from_proto(message: interaction_pb2.Interaction, now: datetime) -> InteractionContent:
    problems = Violations()
    channel = direction = None
    with problems.collect():
        channel = enum_value(channel_pb2.Channel, "CHANNEL", message.channel, Channel, "channel")
    with problems.collect():
        direction = enum_value(
            channel_pb2.Direction, "DIRECTION", message.direction, Direction, "direction"
        )
    occurred_at = now
    if message.HasField("occurred_time"):
        with problems.collect():
            occurred_at = timestamp_to_datetime(message.occurred_time, "occurred_time")
    details = _details_from_proto(message, problems)
    fields: dict[str, Any] = {
        "occurred_at": occurred_at,
        "summary": message.summary,
        "body": message.body,
        "tags": tuple(message.tags),
        "external_id": message.external_id,
        "details": details,
    }
    # Every rule here, so the caller learns every problem at once; the content checks
    # its own rules again, as the domain must, and the use case its time again.
    check_content(problems, channel=channel, **fields)
    check_not_in_future(problems, occurred_at, details, now)
    problems.raise_if_any()
    assert channel is not None
    assert direction is not None
    return InteractionContent(channel=channel, direction=direction, **fields)


def _details_from_proto(
    message: interaction_pb2.Interaction, problems: Violations
) -> ChannelDetails | None:
    """The details as far as they can be read; what cannot be read is a violation, and a
    stand-in takes its place so the remaining rules can still be checked."""
    kind = message.WhichOneof("details")
    if kind == "phone_call":
        call = message.phone_call
        seconds = None
        if call.HasField("duration"):
            with problems.collect():
                seconds = _seconds(call.duration)
        return PhoneCallDetails(seconds, call.disposition, call.recording_ref)
    if kind == "email":
        mail = message.email
        return EmailDetails(mail.subject, mail.message_id, mail.in_reply_to, mail.thread_id)
    if kind == "chat":
        return ChatDetails(
            tuple(_chat_message(m, i, problems) for i, m in enumerate(message.chat.messages))
        )
    if kind == "social":
        post = message.social
        visibility = None
        if post.visibility:
            with problems.collect():
                visibility = enum_value(
                    interaction_pb2.SocialVisibility,
                    "SOCIAL_VISIBILITY",
                    post.visibility,
                    SocialVisibility,
                    "social.visibility",
                )
        return SocialDetails(post.platform.strip().lower(), visibility, post.post_url)
    return None


def _seconds(duration: Duration) -> float:
    seconds, nanos = duration.seconds, duration.nanos
    if not (0 <= seconds <= MAX_CALL_SECONDS and 0 <= nanos < 1_000_000_000):
        raise InvalidInputError.single(
            "phone_call.duration", "INVALID_DURATION", "must be between 0 and 24 hours"
        )
    return seconds + nanos / 1e9


def _chat_message(
    message: interaction_pb2.ChatMessage, index: int, problems: Violations
) -> ChatMessage:
    field = f"chat.messages[{index}]"
    speaker = ChatSpeaker.CUSTOMER
    with problems.collect():
        speaker = enum_value(
            interaction_pb2.ChatSpeaker,
            "CHAT_SPEAKER",
            message.speaker,
            ChatSpeaker,
            f"{field}.speaker",
        )
    sent_at = None
    if message.HasField("send_time"):
        with problems.collect():
            sent_at = timestamp_to_datetime(message.send_time, f"{field}.send_time")
    return ChatMessage(speaker, sent_at, message.text)


def profile_from_proto(message: customer_pb2.Customer) -> CustomerProfile:
    problems = Violations()
    preferred = None
    if message.preferred_channel:
        with problems.collect():
            preferred = enum_value(
                channel_pb2.Channel,
                "CHANNEL",
                message.preferred_channel,
                Channel,
                "preferred_channel",
            )
    profile = None
    with problems.collect():
        profile = CustomerProfile(
            display_name=message.display_name,
            language_code=message.language_code,
            preferred_channel=preferred,
            attributes=dict(message.attributes),
            tags=tuple(message.tags),
        )
    problems.raise_if_any()
    assert profile is not None
    return profile


def customer_to_proto(view: CustomerView) -> customer_pb2.Customer:
    customer = view.customer
    profile = customer.profile
    return customer_pb2.Customer(
        name=customer_name(customer.id),
        display_name=profile.display_name,
        language_code=profile.language_code,
        preferred_channel=enum_number(channel_pb2.Channel, "CHANNEL", profile.preferred_channel),
        attributes=profile.attributes,
        tags=profile.tags,
        identities=[identity_to_proto(i) for i in view.identities],
        create_time=timestamp(customer.created_on),
        update_time=timestamp(customer.modified_on),
        merged_from=[customer_name(merged) for merged in view.merged_from],
        etag=customer.etag,
    )


def profile_update_from_proto(
    message: customer_pb2.Customer, mask: FieldMask
) -> tuple[tuple[str, ...], CustomerProfile]:
    """The fields to change and their new values; fields outside the mask are not
    read, so they are neither validated nor changed."""
    populated = [field.name for field, _ in message.ListFields()]
    fields = fields_to_update(list(mask.paths), populated)
    chosen = customer_pb2.Customer()
    FieldMask(paths=fields).MergeMessage(
        message, chosen, replace_message_field=True, replace_repeated_field=True
    )
    with field_prefix("customer"):
        return fields, profile_from_proto(chosen)


def timeline_entry_to_proto(entry: TimelineEntry) -> service_pb2.TimelineEntry:
    if entry.rendered is None:
        message = timeline_item_to_proto(entry.item, entry.occurred_at)
    else:
        message = service_pb2.TimelineEntry.FromString(entry.rendered)
    message.position = entry.position
    return message


def logged_event_to_proto(event: LoggedEvent) -> service_pb2.LoggedEvent:
    return service_pb2.LoggedEvent(
        position=event.position,
        topic=event.topic,
        aggregate_id=str(event.aggregate_id),
        aggregate_version=event.aggregate_version,
        record_time=timestamp(event.recorded_at),
        actor=event.actor,
        correlation_id=event.correlation_id,
        state_json=event.state.decode("utf-8", errors="replace"),
    )


def import_failure(index: int, error: CrmError) -> service_pb2.ImportFailure:
    violations = error.violations if isinstance(error, InvalidInputError) else []
    return service_pb2.ImportFailure(
        index=index,
        reason=error.reason,
        message=error.message,
        field_violations=[
            service_pb2.ImportFieldViolation(
                field=v.field, reason=v.reason, description=v.description
            )
            for v in violations
        ],
    )


def directory_entry_to_proto(entry: DirectoryEntry) -> customer_pb2.Customer:
    return customer_pb2.Customer(
        name=customer_name(entry.customer_id),
        display_name=entry.display_name,
        identities=[
            identity_to_proto(Identity(IdentityKind(kind), value))
            for kind, value in entry.identities
        ],
        merged_from=[customer_name(merged) for merged in entry.merged_from],
    )
