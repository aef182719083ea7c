"""The customer history service: event-sourced interactions, one timeline per customer."""
