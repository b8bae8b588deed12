"""Ticket stores: SQLite (embedded default) and PostgreSQL (several machines, one store)."""
