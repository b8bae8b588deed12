"""The server under test: a ``callbot serve`` subprocess (or a running one), its CPU and
memory read from /proc (psutil), and its /metrics scraped.

The callbot runs in its own process, never in the load tester's: simulated callers cost
CPU too, and the figures that matter (CPU-seconds per call, peak memory) are the server's.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import psutil
from prometheus_client.parser import text_string_to_metric_families

from callbot.speech.prompts import PROJECT_ROOT

READY = re.compile(r"AudioSocket on ([^\s,]+):(\d+)")
WEB = re.compile(r"web on (http://[^\s]+?)/?$")


@dataclass
class Scrape:
    """One read of /metrics from every worker, summed."""

    at: float  # monotonic
    values: dict[str, float] = field(default_factory=dict)  # "name{labels}" → value
    buckets: dict[float, float] = field(default_factory=dict)  # turn latency le → count

    def get(self, name: str, default: float = 0.0) -> float:
        return self.values.get(name, default)

    def total(self, prefix: str) -> float:
        """Sum of a labelled family: ``total("callbot_calls_ended_total")``."""
        return sum(v for k, v in self.values.items() if k.split("{")[0] == prefix)


def parse_metrics(text: str, into: Scrape) -> None:
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "callbot_turn_latency_seconds_bucket":
                le = float(sample.labels["le"])
                into.buckets[le] = into.buckets.get(le, 0.0) + sample.value
                continue
            labels = ",".join(f'{k}="{v}"' for k, v in sorted(sample.labels.items()))
            key = f"{sample.name}{{{labels}}}" if labels else sample.name
            if sample.name == "callbot_process_peak_rss_bytes":
                into.values[key] = max(into.values.get(key, 0.0), sample.value)
                into.values["callbot_process_peak_rss_bytes_sum"] = (
                    into.values.get("callbot_process_peak_rss_bytes_sum", 0.0) + sample.value
                )
            else:
                into.values[key] = into.values.get(key, 0.0) + sample.value


def histogram_quantile(q: float, buckets: dict[float, float]) -> float | None:
    """Prometheus' histogram_quantile over cumulative buckets (linear within a bucket)."""
    items = sorted(buckets.items())
    if not items or items[-1][1] <= 0:
        return None
    total = items[-1][1]
    rank = q * total
    previous_le, previous_count = 0.0, 0.0
    for le, count in items:
        if count >= rank:
            if le == float("inf"):
                return previous_le
            width = count - previous_count
            fraction = (rank - previous_count) / width if width else 1.0
            return previous_le + (le - previous_le) * fraction
        previous_le, previous_count = le, count
    return previous_le


def bucket_delta(after: Scrape, before: Scrape | None) -> dict[float, float]:
    if before is None:
        return dict(after.buckets)
    return {le: n - before.buckets.get(le, 0.0) for le, n in after.buckets.items()}


@dataclass
class Usage:
    cpu_s: float  # user + system of the server and its worker processes
    rss_bytes: int


class ServerUnderTest:
    """Where the callbot listens and how to read its figures."""

    def __init__(self, host: str, port: int, metrics_urls: list[str], pid: int | None) -> None:
        self.host = host
        self.port = port
        self.metrics_urls = metrics_urls
        self.pid = pid
        self.process: asyncio.subprocess.Process | None = None
        self._log_task: asyncio.Task[None] | None = None
        self.log_tail: list[str] = []
        self.peak_rss_sampled = 0
        # psutil.Process objects keep their previous CPU readings; workers are looked up
        # once (they live as long as the server).
        self._procs: list[psutil.Process] = []

    # ── starting one ───────────────────────────────────────────────────────────────────

    @classmethod
    async def start(
        cls,
        *,
        var_dir: Path,
        env: dict[str, str],
        config: Path | None = None,
        workers: int = 1,
        cpus: set[int] | None = None,
        timeout_s: float = 300.0,
    ) -> ServerUnderTest:
        """``callbot serve`` as a subprocess on free loopback ports; returns when it listens."""
        var_dir.mkdir(parents=True, exist_ok=True)
        full_env = dict(os.environ)
        full_env.update(
            CALLBOT_STORE_URL=f"sqlite:///{var_dir / 'callbot.db'}",
            CALLBOT_RECORDINGS_DIR=str(var_dir / "recordings"),
            CALLBOT_AUDIOSOCKET_PORT="0",
            CALLBOT_WEB_PORT="0",
            CALLBOT_WEB_ENABLED="true",
            PYTHONUNBUFFERED="1",
        )
        full_env.update(env)
        command = [sys.executable, "-m", "callbot"]
        if config is not None:
            command += ["--config", str(config)]
        command += ["serve", "--workers", str(workers)]
        process = await asyncio.create_subprocess_exec(
            *command,
            env=full_env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            cwd=PROJECT_ROOT,
        )
        assert process.stdout is not None
        if cpus:
            os.sched_setaffinity(process.pid, cpus)  # inherited by the spawned workers
        web: list[str] = []
        tail: list[str] = []
        try:
            async with asyncio.timeout(timeout_s):  # a first start may assemble the model
                while True:
                    line = (await process.stdout.readline()).decode(errors="replace")
                    if not line:
                        raise RuntimeError(
                            "the callbot server exited before it was ready:\n" + "".join(tail)
                        )
                    tail = [*tail[-40:], line]
                    if match := WEB.search(line.strip()):
                        web.append(match.group(1) + "/metrics")
                    if match := READY.search(line):
                        host, port = match.group(1), int(match.group(2))
                        break
        except BaseException:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            raise
        server = cls(host, port, web, process.pid)
        server.process = process
        server.log_tail = tail
        server._log_task = asyncio.create_task(server._keep_log(process.stdout))
        return server

    async def _keep_log(self, stream: asyncio.StreamReader) -> None:
        # Drained so the server never blocks on a full pipe; the tail explains a crash.
        while line := await stream.readline():
            text = line.decode(errors="replace")
            self.log_tail = [*self.log_tail[-200:], text]
            if " ERROR " in text or "Traceback" in text:
                sys.stderr.write("server: " + text)

    async def stop(self, timeout_s: float = 60.0) -> int | None:
        if self.process is None:
            return None
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.process.wait(), timeout_s)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()
        if self._log_task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._log_task
        return self.process.returncode

    # ── reading it ─────────────────────────────────────────────────────────────────────

    def usage(self) -> Usage | None:
        """CPU seconds and RSS of the server and its workers, now; None if not local."""
        if self.pid is None:
            return None
        if not self._procs:
            try:
                root = psutil.Process(self.pid)
                self._procs = [root, *root.children(recursive=True)]
            except psutil.Error:
                return None
        cpu = 0.0
        rss = 0
        for proc in self._procs:
            try:
                times = proc.cpu_times()
                # children_*: processes it has waited for (espeak-ng for spoken text).
                cpu += times.user + times.system + times.children_user + times.children_system
                rss += proc.memory_info().rss
            except psutil.Error:
                continue  # a worker that has exited keeps its last reading out
        self.peak_rss_sampled = max(self.peak_rss_sampled, rss)
        return Usage(cpu, rss)

    def refresh_workers(self) -> None:
        """Look the worker processes up again (after they have started)."""
        self._procs = []
        self.usage()

    async def scrape(self) -> Scrape | None:
        if not self.metrics_urls:
            return None
        scrape = Scrape(time.monotonic())
        texts = await asyncio.gather(*(asyncio.to_thread(_get, u) for u in self.metrics_urls))
        for text in texts:
            if text is None:
                return None
            parse_metrics(text, scrape)
        return scrape


def _get(url: str) -> str | None:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.read().decode()
    except OSError:
        return None
