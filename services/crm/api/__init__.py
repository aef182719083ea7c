"""The gRPC edge: protobuf in and out, domain errors to statuses, nothing else."""
