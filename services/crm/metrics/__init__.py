"""The CRM's Prometheus metrics: what is measured (definitions), and what feeds it."""
