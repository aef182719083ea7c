"""The UUID namespace of deterministic ids (index aggregates, idempotency keys)."""

from uuid import UUID

CRM_NAMESPACE = UUID("6f1c9b52-3c1e-4a57-9d0b-2f3a8d1e7c44")
