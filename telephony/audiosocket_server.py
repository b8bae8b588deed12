"""The AudioSocket TCP server: accepts Asterisk's connections and hands each to a handler.

AudioSocket has no authentication, so the server binds to loopback by default and drops
any peer whose address is not on the allowlist before reading a byte. It knows nothing of
dialogs: ``handler(reader, writer)`` is the call session.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
from collections.abc import Awaitable, Callable, Iterable

log = logging.getLogger(__name__)

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


class PeerAllowlist:
    def __init__(self, entries: Iterable[str]) -> None:
        self.networks = [ipaddress.ip_network(entry, strict=False) for entry in entries]

    def allows(self, host: str) -> bool:
        try:
            address = ipaddress.ip_address(host.split("%")[0])
        except ValueError:
            return False
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
            address = address.ipv4_mapped
        return any(address in network for network in self.networks)


class AudioSocketServer:
    def __init__(
        self,
        handler: Handler,
        *,
        host: str,
        port: int,
        allow: Iterable[str],
        reuse_port: bool = False,
    ) -> None:
        self.handler = handler
        # SO_REUSEPORT (Linux): several worker processes listen on one address and the
        # kernel spreads new connections across them (callbot/workers.py).
        self.reuse_port = reuse_port
        self.host = host
        self.port = port
        self.allowlist = PeerAllowlist(allow)
        self._server: asyncio.Server | None = None
        self._calls: set[asyncio.Task[None]] = set()
        self.rejected = 0

    async def start(self) -> None:
        self._server = await asyncio.start_server(
            self._accept, self.host, self.port, reuse_port=self.reuse_port or None
        )
        self.port = self._server.sockets[0].getsockname()[1]  # resolves port 0
        log.info("AudioSocket listening on %s:%d", self.host, self.port)

    @property
    def active_calls(self) -> int:
        return len(self._calls)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername")
        host = peer[0] if peer else ""
        if not self.allowlist.allows(host):
            self.rejected += 1
            log.warning("AudioSocket connection from %s refused: not on the allowlist", host)
            writer.close()
            return
        task = asyncio.current_task()
        assert task is not None
        self._calls.add(task)
        try:
            await self.handler(reader, writer)
        except asyncio.CancelledError:
            # Shutdown cancelled the call (its session closed the ticket on the way out).
            # Ending quietly here keeps asyncio's stream protocol from logging the
            # cancellation as an error in its done-callback.
            pass
        finally:
            self._calls.discard(task)

    async def close(self, grace_s: float = 5.0) -> None:
        """Stop accepting; give calls ``grace_s`` to end, then cancel them (tickets kept)."""
        if self._server is not None:
            self._server.close()
        if self._calls:
            _, pending = await asyncio.wait(set(self._calls), timeout=grace_s)
            for task in pending:
                task.cancel()
            for task in pending:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        if self._server is not None:
            await self._server.wait_closed()
