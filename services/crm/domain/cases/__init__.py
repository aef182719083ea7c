"""Cases: the support ticket aggregate, its SLA clocks and the business time they count."""
