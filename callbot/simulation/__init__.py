"""Simulated callers: scripted people who call the bot over real AudioSocket TCP."""
