"""The callbot's web side: supervisor dashboard, Open311 API, metrics (one ASGI app)."""
