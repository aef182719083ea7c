"""The Interaction aggregate: one touch on one channel, recorded once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4, uuid5

from eventsourcing.domain import Aggregate, event

from services.crm.domain.cause import Cause
from services.crm.domain.channels import (
    CHANNELS_OF_DETAILS,
    Channel,
    ChannelDetails,
    ChatDetails,
    Direction,
    EmailDetails,
    PhoneCallDetails,
    SocialDetails,
)
from services.crm.domain.errors import Violations
from services.crm.domain.identity import Identity
from services.crm.domain.namespace import CRM_NAMESPACE
from services.crm.domain.tags import check_tags
from services.crm.domain.topics import stable_topics
from services.crm.domain.visible import says_something

MAX_SUMMARY_CHARS = 1_000
MAX_BODY_BYTES = 65_536
MAX_EXTERNAL_ID_CHARS = 200
MAX_CHAT_MESSAGES = 1_000
MAX_CHAT_MESSAGE_CHARS = 4_000
MAX_SHORT_TEXT_CHARS = 1_000
MAX_FUTURE_SKEW = timedelta(minutes=10)
MAX_CALL_SECONDS = 86_400
EARLIEST_OCCURRED_AT = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class InteractionContent:
    """What happened in an interaction, validated against the documented limits."""

    channel: Channel
    direction: Direction
    occurred_at: datetime
    summary: str = ""
    body: str = ""
    tags: tuple[str, ...] = ()
    external_id: str = ""
    details: ChannelDetails | None = None

    def __post_init__(self) -> None:
        problems = Violations()
        check_content(
            problems,
            channel=self.channel,
            occurred_at=self.occurred_at,
            summary=self.summary,
            body=self.body,
            tags=self.tags,
            external_id=self.external_id,
            details=self.details,
        )
        problems.raise_if_any()

    @property
    def idempotency_external_id(self) -> str:
        """The source system's id; an email's Message-ID stands in when none is given."""
        if self.external_id:
            return self.external_id
        if isinstance(self.details, EmailDetails):
            return self.details.message_id
        return ""

    def check_not_in_future(self, now: datetime) -> None:
        problems = Violations()
        check_not_in_future(problems, self.occurred_at, self.details, now)
        problems.raise_if_any()


def check_not_in_future(
    problems: Violations, occurred_at: datetime, details: ChannelDetails | None, now: datetime
) -> None:
    latest = now + MAX_FUTURE_SKEW
    problems.check(
        occurred_at <= latest,
        "occurred_time",
        "OCCURRED_TIME_IN_FUTURE",
        f"must not be more than {MAX_FUTURE_SKEW} ahead of the service's clock",
    )
    if isinstance(details, ChatDetails):
        for index, message in enumerate(details.messages):
            problems.check(
                message.sent_at is None or message.sent_at <= latest,
                f"chat.messages[{index}].send_time",
                "SEND_TIME_IN_FUTURE",
                f"must not be more than {MAX_FUTURE_SKEW} ahead of the service's clock",
            )


def check_content(
    problems: Violations,
    *,
    channel: Channel | None,
    occurred_at: datetime,
    summary: str,
    body: str,
    tags: tuple[str, ...],
    external_id: str,
    details: ChannelDetails | None,
) -> None:
    """Every rule of an interaction's content; with the channel unknown (itself a
    violation), all the others still report, so the caller learns them all at once."""
    transcript = details.messages if isinstance(details, ChatDetails) else ()
    problems.check(
        says_something(summary)
        or says_something(body)
        or any(says_something(m.text) for m in transcript),
        "body",
        "EMPTY_INTERACTION",
        "summary, body or chat transcript must say something",
    )
    problems.check(
        len(summary) <= MAX_SUMMARY_CHARS,
        "summary",
        "SUMMARY_TOO_LONG",
        f"at most {MAX_SUMMARY_CHARS} characters",
    )
    problems.check(
        len(body.encode()) <= MAX_BODY_BYTES,
        "body",
        "BODY_TOO_LARGE",
        f"at most {MAX_BODY_BYTES} bytes of UTF-8",
    )
    check_tags(problems, tags)
    problems.check(
        len(external_id) <= MAX_EXTERNAL_ID_CHARS,
        "external_id",
        "EXTERNAL_ID_TOO_LONG",
        f"at most {MAX_EXTERNAL_ID_CHARS} characters",
    )
    _check_details(problems, channel, details)
    problems.check(
        occurred_at.tzinfo is not None and occurred_at >= EARLIEST_OCCURRED_AT,
        "occurred_time",
        "OCCURRED_TIME_OUT_OF_RANGE",
        "must be a time after 1970-01-01T00:00:00Z",
    )


def _check_details(
    problems: Violations, channel: Channel | None, details: ChannelDetails | None
) -> None:
    if details is None:
        return
    allowed = CHANNELS_OF_DETAILS[type(details)]
    if channel is not None and channel not in allowed:
        problems.add(
            "details",
            "DETAILS_DO_NOT_MATCH_CHANNEL",
            f"{type(details).__name__} is for {', '.join(sorted(allowed))}, not {channel}",
        )
    if isinstance(details, PhoneCallDetails):
        seconds = details.duration_seconds
        problems.check(
            seconds is None or 0 <= seconds <= MAX_CALL_SECONDS,
            "phone_call.duration",
            "INVALID_DURATION",
            "must be between 0 and 24 hours",
        )
    elif isinstance(details, EmailDetails):
        for name in ("subject", "message_id", "in_reply_to", "thread_id"):
            problems.check(
                len(getattr(details, name)) <= MAX_SHORT_TEXT_CHARS,
                f"email.{name}",
                "FIELD_TOO_LONG",
                f"at most {MAX_SHORT_TEXT_CHARS} characters",
            )
    elif isinstance(details, ChatDetails):
        _check_transcript(problems, details)
    elif isinstance(details, SocialDetails):
        problems.check(
            not details.post_url or details.post_url.startswith(("https://", "http://")),
            "social.post_url",
            "INVALID_URL",
            "must be an http(s) URL",
        )


def _check_transcript(problems: Violations, chat: ChatDetails) -> None:
    problems.check(
        len(chat.messages) <= MAX_CHAT_MESSAGES,
        "chat.messages",
        "TRANSCRIPT_TOO_LONG",
        f"at most {MAX_CHAT_MESSAGES} messages",
    )
    for index, message in enumerate(chat.messages):
        problems.check(
            says_something(message.text) and len(message.text) <= MAX_CHAT_MESSAGE_CHARS,
            f"chat.messages[{index}].text",
            "INVALID_CHAT_MESSAGE",
            f"must say something, in at most {MAX_CHAT_MESSAGE_CHARS} characters",
        )
        problems.check(
            message.sent_at is None or message.sent_at >= EARLIEST_OCCURRED_AT,
            f"chat.messages[{index}].send_time",
            "SEND_TIME_OUT_OF_RANGE",
            "must be a time after 1970-01-01T00:00:00Z",
        )


def interaction_key(channel: Channel, external_id: str, actor: str, request_id: str) -> str:
    """The idempotency key of a new interaction: its source system's id, else the
    caller's request id (scoped to the caller, so two callers' ids never collide)."""
    if external_id:
        return f"external:{channel}:{external_id}"
    if request_id:
        return f"request:{actor}:{request_id}"
    return f"random:{uuid4()}"


@stable_topics("Interaction")
class Interaction(Aggregate):
    """An interaction; its own aggregate, so a long history never slows the next one."""

    @staticmethod
    def create_id(idempotency_key: str) -> UUID:
        return uuid5(CRM_NAMESPACE, f"interaction/{idempotency_key}")

    class Recorded(Aggregate.Created):
        idempotency_key: str
        customer_id: UUID
        content: InteractionContent
        identity: Identity | None
        fingerprint: str
        customer_created: bool
        cause: Cause

    @event(Recorded)
    def __init__(
        self,
        idempotency_key: str,
        customer_id: UUID,
        content: InteractionContent,
        identity: Identity | None,
        fingerprint: str,
        customer_created: bool,
        cause: Cause,
    ) -> None:
        self.idempotency_key = idempotency_key
        self.customer_id = customer_id
        self.customer_created = customer_created
        self.content = content
        self.identity = identity
        self.fingerprint = fingerprint
        self.recorded_by = cause.actor


@dataclass(frozen=True)
class InteractionRecord:
    """An interaction as readers see it: the content plus who and when."""

    id: UUID
    customer_id: UUID
    content: InteractionContent
    identity: Identity | None
    recorded_by: str
    recorded_at: datetime
