"""Read models fed from the event log; each can be dropped and rebuilt from event zero."""
