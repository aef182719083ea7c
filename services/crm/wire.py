"""Domain records in the contract's wire form: the crm.v1 messages the gRPC edge
answers with, and the timeline read model stores so that a page is never re-encoded.

Stored timeline rows keep the form they were rendered in: after changing what these
functions produce, run `make rebuild-projections`."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from crm.v1 import channel_pb2, identity_pb2, interaction_pb2, note_pb2
from crm.v1 import customer_history_service_pb2 as service_pb2
from google.protobuf.timestamp_pb2 import Timestamp

from services.crm.domain.channels import (
    ChannelDetails,
    ChatDetails,
    EmailDetails,
    PhoneCallDetails,
    SocialDetails,
)
from services.crm.domain.customer_change import CustomerChange
from services.crm.domain.identity import Identity, IdentityKind
from services.crm.domain.interaction import InteractionRecord
from services.crm.domain.note import NoteRecord

TimelineItem = InteractionRecord | CustomerChange | NoteRecord


def rendered_timeline_item(item: TimelineItem, occurred_at: datetime) -> bytes:
    """A crm.v1.TimelineEntry without its position, which the log assigns later."""
    return timeline_item_to_proto(item, occurred_at).SerializeToString()


def timeline_item_to_proto(item: TimelineItem, occurred_at: datetime) -> service_pb2.TimelineEntry:
    message = service_pb2.TimelineEntry(occurred_time=timestamp(occurred_at))
    if isinstance(item, CustomerChange):
        message.customer_change.CopyFrom(customer_change_to_proto(item))
    elif isinstance(item, NoteRecord):
        message.note.CopyFrom(note_to_proto(item))
    else:
        message.interaction.CopyFrom(interaction_to_proto(item))
    return message


def customer_name(customer_id: UUID) -> str:
    return f"customers/{customer_id}"


def enum_number(enum_type: Any, prefix: str, value: StrEnum | None) -> Any:
    """Domain enum to proto enum number: Channel.EMAIL -> CHANNEL_EMAIL; None -> 0."""
    if value is None:
        return 0
    return enum_type.Value(f"{prefix}_{value.upper()}")


def timestamp(moment: datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(moment)
    return stamp


def identity_to_proto(identity: Identity) -> identity_pb2.Identity:
    if identity.kind is IdentityKind.EMAIL:
        return identity_pb2.Identity(email=identity.value)
    if identity.kind is IdentityKind.PHONE:
        return identity_pb2.Identity(phone=identity.value)
    if identity.kind is IdentityKind.CHAT_VISITOR:
        return identity_pb2.Identity(chat_visitor_id=identity.value)
    first, _, second = identity.value.partition(":")
    if identity.kind is IdentityKind.SOCIAL:
        return identity_pb2.Identity(
            social=identity_pb2.SocialHandle(platform=first, handle=second)
        )
    return identity_pb2.Identity(external=identity_pb2.ExternalReference(system=first, id=second))


def interaction_to_proto(recorded: InteractionRecord) -> interaction_pb2.Interaction:
    content = recorded.content
    message = interaction_pb2.Interaction(
        name=f"interactions/{recorded.id}",
        customer=customer_name(recorded.customer_id),
        channel=enum_number(channel_pb2.Channel, "CHANNEL", content.channel),
        direction=enum_number(channel_pb2.Direction, "DIRECTION", content.direction),
        occurred_time=timestamp(content.occurred_at),
        record_time=timestamp(recorded.recorded_at),
        summary=content.summary,
        body=content.body,
        recorded_by=recorded.recorded_by,
        tags=content.tags,
        external_id=content.external_id,
    )
    if recorded.identity is not None:
        message.identity.CopyFrom(identity_to_proto(recorded.identity))
    _details_to_proto(content.details, message)
    return message


def _details_to_proto(details: ChannelDetails | None, message: interaction_pb2.Interaction) -> None:
    if isinstance(details, PhoneCallDetails):
        message.phone_call.disposition = details.disposition
        message.phone_call.recording_ref = details.recording_ref
        if details.duration_seconds is not None:
            message.phone_call.duration.FromNanoseconds(round(details.duration_seconds * 1e9))
    elif isinstance(details, EmailDetails):
        message.email.CopyFrom(
            interaction_pb2.EmailDetails(
                subject=details.subject,
                message_id=details.message_id,
                in_reply_to=details.in_reply_to,
                thread_id=details.thread_id,
            )
        )
    elif isinstance(details, ChatDetails):
        message.chat.SetInParent()
        for chat_message in details.messages:
            added = message.chat.messages.add(
                speaker=enum_number(
                    interaction_pb2.ChatSpeaker, "CHAT_SPEAKER", chat_message.speaker
                ),
                text=chat_message.text,
            )
            if chat_message.sent_at is not None:
                added.send_time.CopyFrom(timestamp(chat_message.sent_at))
    elif isinstance(details, SocialDetails):
        message.social.CopyFrom(
            interaction_pb2.SocialDetails(
                platform=details.platform,
                visibility=enum_number(
                    interaction_pb2.SocialVisibility, "SOCIAL_VISIBILITY", details.visibility
                ),
                post_url=details.post_url,
            )
        )


def customer_change_to_proto(change: CustomerChange) -> service_pb2.CustomerChange:
    message = service_pb2.CustomerChange(
        kind=enum_number(service_pb2.CustomerChangeKind, "CUSTOMER_CHANGE_KIND", change.kind),
        other_customer=customer_name(change.other_customer_id) if change.other_customer_id else "",
        actor=change.actor,
        reason=change.reason,
        evidence=change.evidence,
        unlink_kind=enum_number(service_pb2.UnlinkKind, "UNLINK_KIND", change.unlink_kind),
        updated_fields=change.updated_fields,
        display_name=change.display_name,
    )
    if change.identity is not None:
        message.identity.CopyFrom(identity_to_proto(change.identity))
    return message


def note_to_proto(note: NoteRecord) -> note_pb2.Note:
    return note_pb2.Note(
        name=f"{customer_name(note.customer_id)}/notes/{note.id}",
        text=note.text,
        author=note.author,
        create_time=timestamp(note.created_at),
    )
