"""Speech recognisers behind one interface (see base.py)."""
