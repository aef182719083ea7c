"""Interactions on every channel, through a real gRPC server, read back as one timeline."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from crm.v1 import channel_pb2, identity_pb2, interaction_pb2
from crm.v1 import customer_history_service_pb2 as pb
from google.protobuf import duration_pb2, timestamp_pb2

from services.crm.server import RunningService
from tests import random_refs
from tests.e2e.grpc_helpers import email_interaction, record, record_by_email

NOW = datetime.now(UTC).replace(microsecond=0)


def at(minutes_ago: int) -> timestamp_pb2.Timestamp:
    stamp = timestamp_pb2.Timestamp()
    stamp.FromDatetime(NOW - timedelta(minutes=minutes_ago))
    return stamp


def five_channels(customer: str) -> list[pb.RecordInteractionRequest]:
    return [
        pb.RecordInteractionRequest(
            customer=customer,
            interaction=interaction_pb2.Interaction(
                channel=channel_pb2.CHANNEL_PHONE,
                direction=channel_pb2.DIRECTION_INBOUND,
                occurred_time=at(50),
                summary="Called about a late parcel",
                phone_call=interaction_pb2.PhoneCallDetails(
                    duration=duration_pb2.Duration(seconds=312),
                    disposition="resolved",
                    recording_ref="recordings/synthetic-1.wav",
                ),
            ),
        ),
        pb.RecordInteractionRequest(
            customer=customer,
            interaction=email_interaction(
                occurred_time=at(40),
                body="Parcel still missing.",
                email=interaction_pb2.EmailDetails(
                    subject="Parcel",
                    message_id="<p1@mail.test>",
                    in_reply_to="<p0@mail.test>",
                    thread_id="t-1",
                ),
            ),
        ),
        pb.RecordInteractionRequest(
            customer=customer,
            interaction=interaction_pb2.Interaction(
                channel=channel_pb2.CHANNEL_CHAT,
                direction=channel_pb2.DIRECTION_INBOUND,
                occurred_time=at(30),
                chat=interaction_pb2.ChatDetails(
                    messages=[
                        interaction_pb2.ChatMessage(
                            speaker=interaction_pb2.CHAT_SPEAKER_CUSTOMER,
                            send_time=at(30),
                            text="Hello?",
                        ),
                        interaction_pb2.ChatMessage(
                            speaker=interaction_pb2.CHAT_SPEAKER_AGENT,
                            send_time=at(29),
                            text="Hi, checking.",
                        ),
                    ]
                ),
            ),
        ),
        pb.RecordInteractionRequest(
            customer=customer,
            interaction=interaction_pb2.Interaction(
                channel=channel_pb2.CHANNEL_SOCIAL,
                direction=channel_pb2.DIRECTION_INBOUND,
                occurred_time=at(20),
                summary="Complained in public",
                social=interaction_pb2.SocialDetails(
                    platform="x",
                    visibility=interaction_pb2.SOCIAL_VISIBILITY_PUBLIC,
                    post_url="https://social.test/post/1",
                ),
            ),
        ),
        pb.RecordInteractionRequest(
            customer=customer,
            interaction=interaction_pb2.Interaction(
                channel=channel_pb2.CHANNEL_SMS,
                direction=channel_pb2.DIRECTION_OUTBOUND,
                occurred_time=at(10),
                body="Your parcel ships today.",
                tags=["shipping"],
            ),
        ),
    ]


def test_all_five_channels_round_trip_into_one_timeline(stub, service: RunningService) -> None:  # type: ignore[no-untyped-def]
    first = record_by_email(stub, random_refs.email(), occurred_time=at(60))
    customer = first.interaction.customer
    sent = five_channels(customer)
    positions = [record(stub, request).commit_position for request in sent]

    timeline = stub.GetTimeline(
        pb.GetTimelineRequest(customer=customer, min_position=max(positions)), timeout=30
    )

    got = [entry.interaction for entry in timeline.entries]
    assert [i.channel for i in got] == [
        channel_pb2.CHANNEL_SMS,
        channel_pb2.CHANNEL_SOCIAL,
        channel_pb2.CHANNEL_CHAT,
        channel_pb2.CHANNEL_EMAIL,
        channel_pb2.CHANNEL_PHONE,
        channel_pb2.CHANNEL_EMAIL,
    ]
    for received, request in zip(got[:5], reversed(sent), strict=True):
        expected = request.interaction
        assert received.WhichOneof("details") == expected.WhichOneof("details")
        field = expected.WhichOneof("details")
        if field is not None:
            assert getattr(received, field) == getattr(expected, field)
        assert (received.summary, received.body, list(received.tags)) == (
            expected.summary,
            expected.body,
            list(expected.tags),
        )
        assert received.occurred_time == expected.occurred_time
        assert received.recorded_by == "agent:test-agent"
        assert received.customer == customer
    assert got[5].identity == first.interaction.identity


def test_a_terminal_user_records_email_call_and_chat_for_one_address(stub) -> None:  # type: ignore[no-untyped-def]
    email = random_refs.email()
    identity = identity_pb2.Identity(email=email.upper())
    responses = [
        record_by_email(stub, email, occurred_time=at(3)),
        record(
            stub,
            pb.RecordInteractionRequest(
                identity=identity,
                interaction=interaction_pb2.Interaction(
                    channel=channel_pb2.CHANNEL_PHONE,
                    direction=channel_pb2.DIRECTION_OUTBOUND,
                    occurred_time=at(2),
                    summary="Called back",
                ),
            ),
        ),
        record(
            stub,
            pb.RecordInteractionRequest(
                identity=identity,
                interaction=interaction_pb2.Interaction(
                    channel=channel_pb2.CHANNEL_CHAT,
                    direction=channel_pb2.DIRECTION_INBOUND,
                    occurred_time=at(1),
                    summary="Thanks!",
                ),
            ),
        ),
    ]
    assert [r.customer_created for r in responses] == [True, False, False]
    found = stub.FindCustomerByIdentity(
        pb.FindCustomerByIdentityRequest(identity=identity), timeout=5
    )
    timeline = stub.GetTimeline(
        pb.GetTimelineRequest(
            customer=found.customer.name, min_position=responses[-1].commit_position
        ),
        timeout=30,
    )
    assert [e.interaction.summary for e in timeline.entries] == [
        "Thanks!",
        "Called back",
        "Where is my order?",
    ]


def test_paging_through_a_thousand_entries_loses_and_repeats_nothing(stub) -> None:  # type: ignore[no-untyped-def]
    first = record_by_email(stub, random_refs.email(), occurred_time=at(5000))
    customer = first.interaction.customer
    channels = [channel_pb2.CHANNEL_EMAIL, channel_pb2.CHANNEL_SMS, channel_pb2.CHANNEL_PHONE]
    last_position = 0
    for index in range(999):
        # Several entries share a minute, so ties must page correctly too.
        response = record(
            stub,
            pb.RecordInteractionRequest(
                customer=customer,
                interaction=interaction_pb2.Interaction(
                    channel=channels[index % 3],
                    direction=channel_pb2.DIRECTION_INBOUND,
                    occurred_time=at(index // 4),
                    summary=f"entry {index}",
                ),
            ),
        )
        last_position = response.commit_position

    seen: list[str] = []
    token = ""
    pages = 0
    while True:
        page = stub.GetTimeline(
            pb.GetTimelineRequest(
                customer=customer, page_size=37, page_token=token, min_position=last_position
            ),
            timeout=30,
        )
        seen.extend(entry.interaction.name for entry in page.entries)
        times = [e.occurred_time.ToDatetime() for e in page.entries]
        assert times == sorted(times, reverse=True)
        pages += 1
        token = page.next_page_token
        if not token:
            break
    assert len(seen) == 1000 == len(set(seen))
    assert pages == 28


def test_health_and_reflection_are_served(channel, service: RunningService) -> None:  # type: ignore[no-untyped-def]
    from grpc_health.v1 import health_pb2, health_pb2_grpc
    from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

    health = health_pb2_grpc.HealthStub(channel)
    answer = health.Check(health_pb2.HealthCheckRequest(service="crm.v1.CustomerHistoryService"))
    assert answer.status == health_pb2.HealthCheckResponse.SERVING

    reflection = reflection_pb2_grpc.ServerReflectionStub(channel)
    responses = reflection.ServerReflectionInfo(
        iter([reflection_pb2.ServerReflectionRequest(list_services="")])
    )
    names = {s.name for r in responses for s in r.list_services_response.service}
    assert "crm.v1.CustomerHistoryService" in names
