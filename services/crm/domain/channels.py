"""Channels, directions and the details that only one channel has."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class Channel(StrEnum):
    PHONE = "phone"
    EMAIL = "email"
    CHAT = "chat"
    SOCIAL = "social"
    SMS = "sms"
    WHATSAPP = "whatsapp"
    VIDEO_CALL = "video_call"
    IN_PERSON = "in_person"
    POSTAL_MAIL = "postal_mail"
    WEB_FORM = "web_form"


class Direction(StrEnum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"


class ChatSpeaker(StrEnum):
    CUSTOMER = "customer"
    AGENT = "agent"
    BOT = "bot"


class SocialVisibility(StrEnum):
    PUBLIC = "public"
    PRIVATE = "private"


@dataclass(frozen=True)
class PhoneCallDetails:
    duration_seconds: float | None = None
    disposition: str = ""
    recording_ref: str = ""


@dataclass(frozen=True)
class EmailDetails:
    subject: str = ""
    message_id: str = ""
    in_reply_to: str = ""
    thread_id: str = ""


@dataclass(frozen=True)
class ChatMessage:
    speaker: ChatSpeaker
    sent_at: datetime | None
    text: str


@dataclass(frozen=True)
class ChatDetails:
    messages: tuple[ChatMessage, ...] = ()


@dataclass(frozen=True)
class SocialDetails:
    platform: str = ""
    visibility: SocialVisibility | None = None
    post_url: str = ""


ChannelDetails = PhoneCallDetails | EmailDetails | ChatDetails | SocialDetails

CHANNELS_OF_DETAILS: dict[type[ChannelDetails], frozenset[Channel]] = {
    PhoneCallDetails: frozenset({Channel.PHONE, Channel.VIDEO_CALL}),
    EmailDetails: frozenset({Channel.EMAIL}),
    ChatDetails: frozenset({Channel.CHAT, Channel.WHATSAPP}),
    SocialDetails: frozenset({Channel.SOCIAL}),
}
