"""Request builders and status readers for the end-to-end tests."""

from __future__ import annotations

from typing import Any

import grpc
from crm.v1 import channel_pb2, identity_pb2, interaction_pb2
from crm.v1 import customer_history_service_pb2 as pb
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from tests.e2e.conftest import AGENT_METADATA


def email_interaction(**overrides: Any) -> interaction_pb2.Interaction:
    values: dict[str, Any] = {
        "channel": channel_pb2.CHANNEL_EMAIL,
        "direction": channel_pb2.DIRECTION_INBOUND,
        "summary": "Where is my order?",
    }
    values.update(overrides)
    return interaction_pb2.Interaction(**values)


def chat_interaction(*texts: str) -> interaction_pb2.Interaction:
    """A chat whose transcript is these customer messages, and no summary."""
    return email_interaction(
        channel=channel_pb2.CHANNEL_CHAT,
        summary="",
        chat=interaction_pb2.ChatDetails(
            messages=[
                interaction_pb2.ChatMessage(speaker=interaction_pb2.CHAT_SPEAKER_CUSTOMER, text=t)
                for t in texts
            ]
        ),
    )


def record(stub: Any, request: pb.RecordInteractionRequest) -> pb.RecordInteractionResponse:
    response: pb.RecordInteractionResponse = stub.RecordInteraction(
        request, metadata=AGENT_METADATA, timeout=30
    )
    return response


def record_by_email(stub: Any, email: str, **overrides: Any) -> pb.RecordInteractionResponse:
    return record(
        stub,
        pb.RecordInteractionRequest(
            identity=identity_pb2.Identity(email=email), interaction=email_interaction(**overrides)
        ),
    )


class ErrorDetails:
    """What a client learns from a failed call: code, ErrorInfo and field violations."""

    def __init__(self, error: grpc.RpcError) -> None:
        self.code = error.code()
        self.reason = ""
        self.metadata: dict[str, str] = {}
        self.fields: dict[str, str] = {}
        status = rpc_status.from_call(error)
        for detail in status.details if status else []:
            if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
                info = error_details_pb2.ErrorInfo()
                detail.Unpack(info)
                self.reason, self.metadata = info.reason, dict(info.metadata)
            elif detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
                bad = error_details_pb2.BadRequest()
                detail.Unpack(bad)
                self.fields = {v.field: v.reason for v in bad.field_violations}
