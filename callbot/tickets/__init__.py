"""Tickets: the data a call leaves (model), where it goes (routing, outbox, deliveries), the
Open311 shapes, retention, and the stores that keep it all (store/)."""
