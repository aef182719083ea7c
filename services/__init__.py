"""The project's services: the CRM gRPC service and its HTTP gateway."""
