"""Speech in and out: the recognisers (asr/), the bot's prompts and what they are made of
(pieces), text to speech for what cannot be pre-rendered, and audio conversion helpers."""
