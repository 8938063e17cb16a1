"""Timeline segments agree with the plain definition: the status at an instant is the ``new``
of the latest change at or before it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise

from hypothesis import given
from hypothesis import strategies as st

from sorawatch.domain.incident import Segment, StatusChange
from sorawatch.domain.status import Status
from sorawatch.store.codec import build_segments

T0 = datetime(2025, 1, 1, tzinfo=UTC)


def at(minute: int) -> datetime:
    return T0 + timedelta(minutes=minute)


def status_at(changes: list[StatusChange], when: datetime) -> Status | None:
    before = [c for c in changes if c.at <= when]
    return before[-1].new if before else None


def segment_at(segments: list[Segment], when: datetime) -> Status | None:
    for s in segments:
        if s.start <= when and (s.end is None or when < s.end):
            return s.status
    return None


changes_st = st.lists(st.tuples(st.integers(0, 30), st.sampled_from(list(Status))), max_size=8).map(
    lambda pairs: [
        StatusChange("a", at(m), Status.UNKNOWN, s, "r")
        for m, s in sorted(pairs, key=lambda p: p[0])
    ]
)


@given(changes_st, st.integers(-5, 35), st.none() | st.integers(1, 20))
def test_segments_match_the_status_at_every_minute(
    changes: list[StatusChange], since_m: int, length: int | None
) -> None:
    since = at(since_m)
    until = None if length is None else at(since_m + length)
    before = [c for c in changes if c.at <= since]
    inside = [c for c in changes if c.at > since and (until is None or c.at < until)]
    later = until is not None and any(c.at >= until for c in changes)

    segments = build_segments(before[-1] if before else None, inside, since, until, later)

    last = since_m + (length if length is not None else 40)
    for minute in range(since_m, last):
        assert segment_at(segments, at(minute)) == status_at(changes, at(minute))
    for earlier, later_seg in pairwise(segments):
        assert earlier.end == later_seg.start
    assert all(s.start >= since and (s.end is None or s.end > s.start) for s in segments)
    assert all(s.end is None or until is None or s.end <= until for s in segments)
