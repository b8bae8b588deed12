"""The live call: one session per AudioSocket connection (frame path, dialog loop, finishing),
the dialog engine that runs ivr.py, the endpointer, the recording, and the link to Asterisk's
manager interface for caller numbers and hand-back."""
