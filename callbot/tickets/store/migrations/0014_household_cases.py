"""One case per household (issue 18 item 3): a ticket linked to another household's case.

``tickets.case_id`` names the case a ticket belongs to: the id of the case's first ticket
(the one routed to the agency), or NULL for a ticket that is its own case. Cases do not
nest: the first ticket's own ``case_id`` is NULL, and a ticket with calls linked to it is
never linked elsewhere (callbot/tickets/store/sql_cases.py keeps that).

``tickets.case_checked`` says the household match ran for this ticket (linked or not), so
a ticket split off its case by a supervisor, or routed later by the sweep, is not matched
again. Every existing ticket counts as checked: the match never links old tickets.

The phone numbers get indexes of their own: the match and the status line (issue 18 item 2)
look tickets up by number on every call.
"""

SQLITE = """
ALTER TABLE tickets ADD COLUMN case_id INTEGER REFERENCES tickets (id);
ALTER TABLE tickets ADD COLUMN case_checked INTEGER NOT NULL DEFAULT 0;
UPDATE tickets SET case_checked = 1;
CREATE INDEX tickets_case ON tickets (case_id) WHERE case_id IS NOT NULL;
CREATE INDEX tickets_callback_number ON tickets (callback_number);
CREATE INDEX tickets_caller_number ON tickets (caller_number);
"""

POSTGRES = """
ALTER TABLE tickets ADD COLUMN case_id bigint REFERENCES tickets (id);
ALTER TABLE tickets ADD COLUMN case_checked boolean NOT NULL DEFAULT false;
UPDATE tickets SET case_checked = true;
CREATE INDEX tickets_case ON tickets (case_id) WHERE case_id IS NOT NULL;
CREATE INDEX tickets_callback_number ON tickets (callback_number);
CREATE INDEX tickets_caller_number ON tickets (caller_number);
"""
