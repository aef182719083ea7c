"""Calls to the CRM with serialized bytes, so undecodable requests can be sent too."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from typing import Any

import grpc
from crm.v1 import customer_history_service_pb2 as pb
from crm.v1.identity_pb2 import Identity
from google.protobuf.message import Message
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from tests.e2e.fuzz.messages import message_class
from tests.e2e.fuzz.seeds import SERVICE, World, interaction_seed
from tests.e2e.server_process import ServerProcess

DEADLINE_SECONDS = 20
CALLER_SECRET = "fuzz-caller-secret"


@dataclass
class Answer:
    code: grpc.StatusCode
    request_id: str
    reason: str = ""
    message: str = ""


class Caller:
    """Sends bytes to any RPC of the CRM, as the agent "fuzz" through the gateway would."""

    def __init__(self, crm: ServerProcess) -> None:
        self.channel = crm.channel

    def metadata(self, request_id: str, actor: str = "agent:fuzz") -> list[tuple[str, str]]:
        return [
            ("x-crm-actor", actor),
            ("x-request-id", request_id),
            ("x-crm-caller-secret", CALLER_SECRET),
        ]

    def call(
        self,
        method: Any,
        payload: bytes,
        metadata: list[tuple[str, str]],
        timeout: float = DEADLINE_SECONDS,
    ) -> Answer:
        path = f"/{SERVICE.full_name}/{method.name}"
        output = message_class(method.output_type).FromString
        sent_id = dict(metadata).get("x-request-id", "")
        try:
            if not method.server_streaming:
                _, call = self.channel.unary_unary(path, None, output).with_call(
                    payload, metadata=metadata, timeout=timeout
                )
                return Answer(grpc.StatusCode.OK, _request_id(call, sent_id))
            stream = self.channel.unary_stream(path, None, output)(
                payload, metadata=metadata, timeout=timeout
            )
            if method.name == "WatchTimeline":
                # A watch never ends: one still open after a moment was accepted.
                try:
                    stream.exception(timeout=0.5)
                except grpc.FutureTimeoutError:
                    stream.cancel()
                    return Answer(grpc.StatusCode.OK, sent_id)
            for _ in stream:
                pass
            return Answer(grpc.StatusCode.OK, _request_id(stream, sent_id))
        except grpc.RpcError as error:
            return Answer(error.code(), _request_id(error, sent_id), *_error_info(error))

    def replay(self, after: int = 0) -> list[Any]:
        events = []
        for page in self.channel.unary_stream(
            f"/{SERVICE.full_name}/ReplayEvents", None, pb.ReplayEventsResponse.FromString
        )(
            pb.ReplayEventsRequest(after_position=after).SerializeToString(),
            metadata=self.metadata(str(uuid.uuid4())),
            timeout=60,
        ):
            events.extend(page.events)
        return events

    def unary(self, name: str, request: Message, timeout: float) -> Answer:
        method = SERVICE.methods_by_name[name]
        metadata = self.metadata(fresh_id())
        return self.call(method, request.SerializeToString(), metadata, timeout)


def fresh_id() -> str:
    return str(uuid.uuid4())


def _request_id(call: Any, sent: str) -> str:
    for key, value in call.trailing_metadata() or ():
        if key == "x-request-id":
            return str(value)
    return sent


def _error_info(error: grpc.RpcError) -> tuple[str, str]:
    message = error.details() or ""
    try:
        status = rpc_status.from_call(error)
    except ValueError:
        return "", message
    for detail in status.details if status else []:
        if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            detail.Unpack(info)
            return info.reason, message
    return "", message


def seed_world(caller: Caller, rng: random.Random) -> World:
    """Three customers, each first seen by email, for the seeds to name."""
    world = World(rng)
    for _ in range(3):
        email = world.new_email()
        request = pb.RecordInteractionRequest(request_id=world.new_id())
        request.identity.email = email
        interaction_seed(world, request.interaction)
        method = SERVICE.methods_by_name["RecordInteraction"]
        metadata = caller.metadata(fresh_id())
        answer = caller.call(method, request.SerializeToString(), metadata)
        assert answer.code == grpc.StatusCode.OK, answer
        found = caller.channel.unary_unary(
            f"/{SERVICE.full_name}/FindCustomerByIdentity",
            None,
            pb.FindCustomerByIdentityResponse.FromString,
        )(
            pb.FindCustomerByIdentityRequest(identity=Identity(email=email)).SerializeToString(),
            metadata=caller.metadata(fresh_id()),
            timeout=DEADLINE_SECONDS,
        )
        world.customers.append(found.customer.name)
        world.emails[found.customer.name] = email
    return world
