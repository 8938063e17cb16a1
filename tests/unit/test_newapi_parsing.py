"""Reading new-api's job dialects: status synonyms, progress strings, timestamps, wrappers."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sorawatch.providers.base import JobState
from sorawatch.providers.newapi_videos import (
    STATUS_SYNONYMS,
    job_state,
    parse_job,
    progress_of,
    timestamp,
)
from sorawatch.simulator.protocols.newapi_videos import DIALECTS

T = datetime(2025, 11, 28, 16, 24, 50, tzinfo=UTC)


@pytest.mark.parametrize(
    ("word", "state"),
    [
        pytest.param("queued", JobState.QUEUED, id="queued"),
        pytest.param("NOT_START", JobState.QUEUED, id="not-start-upper"),
        pytest.param("submitted", JobState.QUEUED, id="submitted"),
        pytest.param("Pending", JobState.QUEUED, id="pending-capitalised"),
        pytest.param("processing", JobState.IN_PROGRESS, id="processing"),
        pytest.param("IN_PROGRESS", JobState.IN_PROGRESS, id="in-progress-upper"),
        pytest.param("in-progress", JobState.IN_PROGRESS, id="in-progress-dashed"),
        pytest.param("running", JobState.IN_PROGRESS, id="running"),
        pytest.param("succeeded", JobState.COMPLETED, id="succeeded"),
        pytest.param("SUCCESS", JobState.COMPLETED, id="success-upper"),
        pytest.param("finished", JobState.COMPLETED, id="finished"),
        pytest.param("FAILURE", JobState.FAILED, id="failure-upper"),
        pytest.param("canceled", JobState.FAILED, id="canceled"),
        pytest.param("error", JobState.FAILED, id="error"),
        pytest.param("paused", None, id="unknown-word"),
        pytest.param(3, None, id="not-a-string"),
    ],
)
def test_job_state(word: object, state: JobState | None) -> None:
    assert job_state(word) is state


def test_every_simulated_dialect_is_understood() -> None:
    expected = (JobState.QUEUED, JobState.IN_PROGRESS, JobState.COMPLETED, JobState.FAILED)
    for words in DIALECTS:
        assert tuple(job_state(w) for w in words) == expected, words


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        pytest.param(45, 45, id="int"),
        pytest.param("45%", 45, id="percent-string"),
        pytest.param(" 45 % ", 45, id="spaced"),
        pytest.param("45", 45, id="digit-string"),
        pytest.param(45.9, 45, id="float"),
        pytest.param("150%", 100, id="clamped-high"),
        pytest.param(-3, 0, id="clamped-low"),
        pytest.param("abc", None, id="garbage"),
        pytest.param("nan%", None, id="nan"),
        pytest.param(True, None, id="bool"),
        pytest.param(None, None, id="none"),
    ],
)
def test_progress_of(raw: object, value: int | None) -> None:
    assert progress_of(raw) == value


@given(st.integers(0, 100))
def test_progress_string_and_int_agree(n: int) -> None:
    assert progress_of(f"{n}%") == progress_of(n) == n


@pytest.mark.parametrize(
    ("raw", "when"),
    [
        pytest.param(1764347090, T, id="seconds"),
        pytest.param(1764347090922, T.replace(microsecond=922000), id="milliseconds"),
        pytest.param("2025-11-28T16:24:50Z", T, id="rfc3339-z"),
        pytest.param("2025-11-28T16:24:50+00:00", T, id="rfc3339-offset"),
        pytest.param(0, None, id="zero-is-not-yet"),
        pytest.param(None, None, id="null"),
        pytest.param("soon", None, id="garbage"),
        pytest.param(False, None, id="bool"),
    ],
)
def test_timestamp(raw: object, when: datetime | None) -> None:
    assert timestamp(raw) == when


@given(st.integers(10**9, 4 * 10**9))
def test_seconds_and_milliseconds_read_the_same(seconds: int) -> None:
    assert timestamp(seconds) == timestamp(seconds * 1000)


def test_video_object_with_legacy_fields() -> None:
    job = parse_job(
        {
            "id": "task_abc",
            "task_id": "task_abc",
            "object": "video",
            "model": "sora-2",
            "status": "succeeded",
            "progress": "100%",
            "created_at": 1764347090922,
            "completed_at": 1764347190,
            "seconds": "4",
            "video_url": "https://gw.example/v1/videos/task_abc/content",
            "metadata": {"url": "https://gw.example/v1/videos/task_abc/content"},
        }
    )
    assert job is not None
    assert (job.id, job.state, job.progress, job.seconds) == (
        "task_abc",
        JobState.COMPLETED,
        100,
        "4",
    )
    assert job.created_at == T.replace(microsecond=922000)
    assert job.completed_at == datetime(2025, 11, 28, 16, 26, 30, tzinfo=UTC)


def test_fallback_create_answer_without_object() -> None:
    job = parse_job({"id": "task_x", "task_id": "task_x", "status": "queued", "model": "m"})
    assert job is not None
    assert job.state is JobState.QUEUED
    assert job.progress == 0
    assert job.completed_at is None


def test_legacy_task_wrapper_with_fail_reason() -> None:
    body: dict[str, Any] = {
        "code": "success",
        "message": "",
        "data": {
            "task_id": "task_y",
            "status": "FAILURE",
            "fail_reason": "upstream said no",
            "progress": "60%",
            "submit_time": 1764347090,
            "finish_time": 0,
            "properties": {"origin_model_name": "sora-2"},
        },
    }
    job = parse_job(body)
    assert job is not None
    assert (job.id, job.state, job.progress, job.model) == ("task_y", JobState.FAILED, 60, "sora-2")
    assert job.error_code is None
    assert job.error_message == "upstream said no"
    assert job.created_at == T
    assert job.completed_at is None


def test_failed_video_error_object() -> None:
    job = parse_job(
        {
            "id": "task_z",
            "status": "FAILURE",
            "error": {"code": "video_generation_failed", "message": "Video generation failed."},
        }
    )
    assert job is not None
    assert job.error_code == "video_generation_failed"


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"code": "success", "message": "", "data": None}, id="empty-wrapper"),
        pytest.param({"id": "task_q", "status": "paused"}, id="unknown-status"),
        pytest.param({"status": "queued"}, id="no-id"),
        pytest.param({"code": "task_not_exist", "message": "task_not_exist"}, id="flat-error"),
        pytest.param("task_q", id="not-an-object"),
    ],
)
def test_other_shapes_are_not_jobs(body: object) -> None:
    assert parse_job(body) is None


def test_synonym_table_has_each_state() -> None:
    assert set(STATUS_SYNONYMS.values()) == set(JobState)
