"""Calls one CustomerHistoryService RPC with a JSON body and prints the JSON answer,
for terminals without grpcurl.

    PYTHONPATH=gen/python python scripts/crm_call.py GetCustomer '{"name": "customers/X"}'

CRM_ADDRESS (default 127.0.0.1:50051) and CRM_ACTOR (default agent:terminal) apply.
"""

from __future__ import annotations

import os
import sys

import grpc
from crm.v1 import customer_history_service_pb2 as pb
from crm.v1.customer_history_service_pb2_grpc import CustomerHistoryServiceStub
from google.protobuf import json_format
from grpc_status import rpc_status

SERVICE = pb.DESCRIPTOR.services_by_name["CustomerHistoryService"]


def call(method_name: str, body: str) -> str:
    method = SERVICE.methods_by_name.get(method_name)
    if method is None:
        raise SystemExit(
            f"unknown method {method_name}; one of: {', '.join(SERVICE.methods_by_name)}"
        )
    request_class = getattr(pb, method.input_type.name)
    request = json_format.Parse(body or "{}", request_class())
    actor = os.environ.get("CRM_ACTOR", "agent:terminal")
    with grpc.insecure_channel(os.environ.get("CRM_ADDRESS", "127.0.0.1:50051")) as channel:
        stub = CustomerHistoryServiceStub(channel)
        try:
            response = getattr(stub, method_name)(
                request, metadata=(("x-crm-actor", actor),), timeout=10
            )
        except grpc.RpcError as error:
            status = rpc_status.from_call(error)
            details = json_format.MessageToJson(status) if status else error.details()
            raise SystemExit(f"{error.code().name}: {details}") from None
    return json_format.MessageToJson(response)


if __name__ == "__main__":
    if len(sys.argv) not in (2, 3):
        raise SystemExit(__doc__)
    print(call(sys.argv[1], sys.argv[2] if len(sys.argv) == 3 else "{}"))
