"""What the AMI client is configured with, and the errors it raises."""

from __future__ import annotations

import os
import random
from collections.abc import Iterator
from dataclasses import dataclass, field

from telephony.ami_protocol import DEFAULT_MAX_PACKET_SIZE, Packet


@dataclass
class AmiSettings:
    """Connection settings a config loader fills; ``secret`` never appears in repr/logs."""

    host: str = "127.0.0.1"
    port: int = 5038
    username: str = "callbot"
    secret: str = field(default="", repr=False)
    # Read classes we want events for: queue events are class "agent", our UserEvent "user".
    events: str = "agent,user"
    ping_interval_s: float = 20.0
    action_timeout_s: float = 5.0
    connect_timeout_s: float = 5.0
    reconnect_initial_s: float = 0.5
    reconnect_max_s: float = 30.0
    reconnect_factor: float = 2.0
    # Spread reconnects of several callbot machines so they don't hit Asterisk together.
    reconnect_jitter: float = 0.1
    max_packet_size: int = DEFAULT_MAX_PACKET_SIZE

    @classmethod
    def from_env(cls, prefix: str = "CALLBOT_AMI_", **overrides: object) -> AmiSettings:
        """Read ``<prefix>HOST``, ``PORT``, ``USERNAME``, ``SECRET``, ``EVENTS``,
        ``PING_INTERVAL_S`` from the environment; keyword overrides win."""
        env = os.environ
        values: dict[str, object] = {}
        for name, conv in (
            ("host", str),
            ("port", int),
            ("username", str),
            ("secret", str),
            ("events", str),
            ("ping_interval_s", float),
            ("action_timeout_s", float),
        ):
            raw = env.get(prefix + name.upper())
            if raw is not None:
                values[name] = conv(raw)
        values.update(overrides)
        return cls(**values)  # type: ignore[arg-type]

    def backoff_delays(self) -> Iterator[float]:
        """Infinite iterator of reconnect delays: initial, ×factor, … capped at max."""
        delay = self.reconnect_initial_s
        while True:
            jitter = 1.0 + random.uniform(-self.reconnect_jitter, self.reconnect_jitter)
            yield max(0.0, min(delay, self.reconnect_max_s) * jitter)
            delay = min(delay * self.reconnect_factor, self.reconnect_max_s)


class AmiException(Exception):
    """Base of every error this client raises."""


class AmiError(AmiException):
    """Asterisk answered ``Response: Error``; ``message`` is Asterisk's own text."""

    def __init__(self, action: str, message: str, packet: Packet | None = None) -> None:
        super().__init__(f"AMI action {action} failed: {message}")
        self.action = action
        self.message = message
        self.packet = packet


class AmiLoginError(AmiError):
    """Login refused (wrong user/secret, or the source address is not permitted)."""


class AmiTimeout(AmiException, TimeoutError):
    """No (complete) response to an action within its timeout."""

    def __init__(self, action: str, action_id: str, timeout: float) -> None:
        super().__init__(
            f"AMI action {action} (ActionID {action_id}) got no response within {timeout:g} s"
        )
        self.action = action
        self.action_id = action_id
        self.timeout = timeout


class AmiConnectionLost(AmiException, ConnectionError):
    """The link to Asterisk is down (dropped, closed, or not yet connected)."""
