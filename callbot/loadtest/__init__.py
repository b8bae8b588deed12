"""The load tester: simulated callers over AudioSocket TCP, figures, reports, capacity."""
