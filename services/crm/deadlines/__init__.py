"""The deadline engine: follows the log into pending deadlines and fires each when due.

Design, and why it fires each deadline exactly once:
- A deadline is an aggregate (services/crm/domain/deadlines.py) whose id is uuid5 of
  its key. Whatever owns it saves its Scheduled or Cancelled event with its own.
- The engine keeps the pending ones in a read model indexed by due time (store.py),
  fed from the log by the projection machinery every read model uses.
- When one falls due the engine records Fired on that aggregate, then deletes its
  row. Fired is the aggregate's next version, so a second attempt (an engine killed
  before it deleted the row and restarted, or two engines at once) collides in the
  event store or finds the deadline fired, and counts as done. A cancel racing the
  fire collides the same way: one of them is recorded, never both.
- Features subscribe to Deadline.Fired events whose consequence names theirs.
"""
