"""Prometheus ``/metrics`` with prometheus_client, on a registry of our own (never the global
one, so two apps in one process — the tests — do not share series).

Two kinds of series: what the monitor counts as it goes (``ProbeMetrics``: the latency histogram
and the outcome counter, fed by every observation) and what is read off the board at scrape time
(``BoardCollector``: status, uptime per window, open incidents, canary spend).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from sorawatch.domain.observation import Observation
from sorawatch.domain.status import Status

from .board import Board

# Probe latency buckets in seconds: light probes answer in tens of ms, video canaries in minutes.
LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900)


class ProbeMetrics:
    """Counts every observation the monitor ingests (hand ``observe`` to the monitor)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.latency = Histogram(
            "sorawatch_probe_latency_seconds",
            "Latency of probe answers.",
            ["channel", "source"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.outcomes = Counter(
            "sorawatch_probe_outcomes",
            "Observations by outcome.",
            ["channel", "source", "outcome"],
            registry=registry,
        )

    def observe(self, obs: Observation) -> None:
        self.outcomes.labels(obs.channel_id, obs.source.value, obs.outcome.value).inc()
        if obs.latency_ms is not None:
            self.latency.labels(obs.channel_id, obs.source.value).observe(obs.latency_ms / 1000)


class BoardCollector(Collector):
    def __init__(self, board: Callable[[], Board]) -> None:
        self.board = board

    def collect(self) -> Iterator[Metric]:
        board = self.board()
        status = GaugeMetricFamily(
            "sorawatch_channel_status",
            "1 for the channel's current status, 0 for the others.",
            labels=["channel", "group", "access", "status"],
        )
        up = GaugeMetricFamily(
            "sorawatch_channel_up",
            "1 while the channel serves requests (operational or degraded).",
            labels=["channel"],
        )
        uptime = GaugeMetricFamily(
            "sorawatch_channel_uptime_ratio",
            "Time-weighted availability over the window (maintenance and unknown left out).",
            labels=["channel", "window"],
        )
        incidents = GaugeMetricFamily(
            "sorawatch_channel_open_incidents", "Open incidents.", labels=["channel"]
        )
        spend = GaugeMetricFamily(
            "sorawatch_canary_spend_today_usd",
            "USD spent (or held) by canary jobs on the current UTC day.",
            labels=["channel"],
        )
        for card in board.cards:
            ch = card.channel
            for s in Status:
                status.add_metric(
                    [ch.id, ch.group, ch.access.value, s.value], 1.0 if card.status is s else 0.0
                )
            serving = card.status in (Status.OPERATIONAL, Status.DEGRADED)
            up.add_metric([ch.id], 1.0 if serving else 0.0)
            for window, value in card.uptime.items():
                if value is not None:
                    uptime.add_metric([ch.id, window], value)
            incidents.add_metric([ch.id], float(sum(1 for i in card.incidents if i.is_open)))
            if card.canary is not None:
                spend.add_metric([ch.id], card.canary.spend_today_usd)
        yield from (status, up, uptime, incidents, spend)


class Exposition:
    """The ``/metrics`` text: the board's series rendered once per board version (a thousand
    channels make some fifteen thousand samples, about 100 ms of text to write), the monitor's
    counters rendered at every scrape."""

    def __init__(self, board: Callable[[], Board]) -> None:
        self.board = board
        self.board_registry = CollectorRegistry(auto_describe=False)
        self.board_registry.register(BoardCollector(board))
        self.probe_registry = CollectorRegistry(auto_describe=False)
        self._cached: tuple[int, bytes] = (-1, b"")

    def latest(self) -> bytes:
        version = self.board().version
        if self._cached[0] != version:
            self._cached = (version, generate_latest(self.board_registry))
        return self._cached[1] + generate_latest(self.probe_registry)


def make_registry(board: Callable[[], Board]) -> tuple[Exposition, ProbeMetrics]:
    exposition = Exposition(board)
    return exposition, ProbeMetrics(exposition.probe_registry)
