"""What the SQLite and PostgreSQL ticket stores share: every query and every rule.

The engines differ only in how they connect, run a transaction, spell datetimes and report
errors; those are the few abstract methods of ``SqlStoreBase`` (sql_base.py), which
sqlite.py and postgres.py implement. The queries are split by concern into mixins, each
written once with ``?`` placeholders (PostgreSQL's adapter turns them into ``$1, $2…``), so
both stores behave the same by construction and one test suite covers both:

- sql_base.py: the engine-facing base, ``Row``, ``Tx``, ``ConstraintError``, ``to_utc`` and
  the shared private helpers;
- sql_call_path.py: what a live call writes (retried, idempotent) and the call leases;
- sql_calls.py: reading tickets, turns and history, the status lifecycle;
- sql_outbox.py: agency deliveries (issue 5);
- sql_open311.py: Open311 requests filed by other channels (issue 5);
- sql_retention.py: retention candidates and purging personal data (issue 5);
- sql_notify.py: consent and the caller's messages (issue 18);
- sql_callers.py: a caller's open tickets by number, and their additions (issue 18);
- sql_live.py: the calls in progress and a supervisor's "hand back now" (issue 17);
- sql_cases.py: one case per household — links, splits and a case's calls (issue 18).

This module assembles ``SqlTicketStore`` from them and re-exports the names other modules
import from here.
"""

from __future__ import annotations

from callbot.tickets.store.sql_base import (
    BOT_ACTOR,
    ConstraintError,
    Row,
    SqlStoreBase,
    Tx,
    to_utc,
)
from callbot.tickets.store.sql_call_path import RECOVERY_ACTOR, CallPathMixin
from callbot.tickets.store.sql_callers import CallerTicketsMixin
from callbot.tickets.store.sql_calls import CallTicketMixin
from callbot.tickets.store.sql_cases import HouseholdCasesMixin
from callbot.tickets.store.sql_live import LiveMixin
from callbot.tickets.store.sql_notify import NotifyMixin
from callbot.tickets.store.sql_open311 import Open311Mixin
from callbot.tickets.store.sql_outbox import OUTBOX_ACTOR, OutboxMixin
from callbot.tickets.store.sql_retention import PurgeCandidate, RetentionMixin

__all__ = [
    "BOT_ACTOR",
    "OUTBOX_ACTOR",
    "RECOVERY_ACTOR",
    "ConstraintError",
    "PurgeCandidate",
    "Row",
    "SqlStoreBase",
    "SqlTicketStore",
    "Tx",
    "to_utc",
]


class SqlTicketStore(
    CallPathMixin,
    CallTicketMixin,
    OutboxMixin,
    Open311Mixin,
    RetentionMixin,
    NotifyMixin,
    CallerTicketsMixin,
    LiveMixin,
    HouseholdCasesMixin,
):
    """The TicketStore behaviour on top of a small engine adapter."""
