"""Text channels (issue 19): the phone intake's dialog driven by typed messages.

``conversation.py`` is channel-neutral (one persisted dialog per channel and user);
``web_chat.py`` serves it as a page, ``zalo_oa.py`` (+ ``zalo_webhook.py``) through a Zalo
Official Account. See docs/channels.md.
"""
