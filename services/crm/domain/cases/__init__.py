"""Cases: customer problems with an owner, a status, escalation and SLA clocks."""
