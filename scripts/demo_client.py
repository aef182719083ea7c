"""Records an email, a call and a chat for one address, then prints its timeline.

Run it against a running service (`make run`):
    PYTHONPATH=gen/python .venv/bin/python scripts/demo_client.py [ADDRESS] [EMAIL]
"""

from __future__ import annotations

import sys

import grpc
from crm.v1 import channel_pb2, identity_pb2, interaction_pb2
from crm.v1 import customer_history_service_pb2 as pb
from crm.v1.customer_history_service_pb2_grpc import CustomerHistoryServiceStub

METADATA = (("x-crm-actor", "agent:demo"),)


def main(address: str = "127.0.0.1:50051", email: str = "ada@example.com") -> list[str]:
    with grpc.insecure_channel(address) as channel:
        crm = CustomerHistoryServiceStub(channel)
        ada = identity_pb2.Identity(email=email)
        touches = [
            interaction_pb2.Interaction(
                channel=channel_pb2.CHANNEL_EMAIL,
                direction=channel_pb2.DIRECTION_INBOUND,
                summary="Where is my order?",
                email=interaction_pb2.EmailDetails(subject="Order 1042"),
            ),
            interaction_pb2.Interaction(
                channel=channel_pb2.CHANNEL_PHONE,
                direction=channel_pb2.DIRECTION_OUTBOUND,
                summary="Called back: parcel ships tomorrow",
            ),
            interaction_pb2.Interaction(
                channel=channel_pb2.CHANNEL_CHAT,
                direction=channel_pb2.DIRECTION_INBOUND,
                summary="Thanks for the call!",
            ),
        ]
        last = None
        for touch in touches:
            last = crm.RecordInteraction(
                pb.RecordInteractionRequest(identity=ada, interaction=touch),
                metadata=METADATA,
                timeout=10,
            )
        assert last is not None
        timeline = crm.GetTimeline(
            pb.GetTimelineRequest(
                customer=last.interaction.customer, min_position=last.commit_position
            ),
            timeout=10,
        )
        lines = [
            f"{e.occurred_time.ToDatetime():%Y-%m-%d %H:%M:%S}  "
            f"{channel_pb2.Channel.Name(e.interaction.channel):<14} {e.interaction.summary}"
            for e in timeline.entries
        ]
        print(f"Timeline of {last.interaction.customer}:")
        print("\n".join(lines))
        return lines


if __name__ == "__main__":
    main(*sys.argv[1:])
