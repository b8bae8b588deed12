"""Urgency triage (issue 17): a ticket's priority.

``tickets.priority`` is the urgency the call reached (``callbot/nlu/urgency.py``):
``normal``, ``urgent`` or ``emergency``. A live call sets it through its ``urgency`` slot
(``SLOT_TICKET_FIELDS``), so it is written, versioned and journalled like every slot;
routing shortens the SLA of a raised ticket. Every existing ticket is ``normal``. There is
no CHECK on the values: the store reads an unknown one as ``normal`` rather than refuse a
row. The partial index serves "the raised tickets still open, oldest first" without
growing with the normal ones.
"""

SQLITE = """
ALTER TABLE tickets ADD COLUMN priority TEXT NOT NULL DEFAULT 'normal';
CREATE INDEX tickets_raised ON tickets (priority, requested_datetime) WHERE priority <> 'normal';
"""

POSTGRES = """
ALTER TABLE tickets ADD COLUMN priority text NOT NULL DEFAULT 'normal';
CREATE INDEX tickets_raised ON tickets (priority, requested_datetime) WHERE priority <> 'normal';
"""
