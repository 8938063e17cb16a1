"""Tell "every channel is down" from "our own network is down".

If the latest light probe of every channel, across at least two distinct hosts, failed to
connect, the fault is most likely on our side: such observations are marked inconclusive, so the
channels go ``unknown`` (never counted as their downtime) instead of ``suspended``.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from sorawatch.domain.observation import Observation
from sorawatch.domain.outcome import Outcome

LOCAL_NETWORK_DETAIL = "our network looks down: every channel failed to connect"


class NetworkGuard:
    def __init__(self, hosts: dict[str, str], window: timedelta) -> None:
        self._hosts = hosts  # channel id -> "host:port"
        self._window = window
        self._latest: dict[str, tuple[datetime, Outcome]] = {}

    def judge(self, obs: Observation) -> Observation:
        """Record a light-probe observation and return it, marked inconclusive if suspect."""
        self._latest[obs.channel_id] = (obs.at, obs.outcome)
        if obs.outcome is not Outcome.CONNECT_ERROR or obs.inconclusive:
            return obs
        recent = {
            ch: outcome
            for ch, (at, outcome) in self._latest.items()
            if obs.at - at <= self._window and ch in self._hosts
        }
        hosts = {self._hosts[ch] for ch in recent}
        everyone_seen = len(recent) == len(self._hosts)
        if (
            everyone_seen
            and len(hosts) >= 2
            and all(o is Outcome.CONNECT_ERROR for o in recent.values())
        ):
            return replace(obs, inconclusive=True, detail=f"{obs.detail}; {LOCAL_NETWORK_DETAIL}")
        return obs
