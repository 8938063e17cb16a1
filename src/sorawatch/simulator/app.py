"""The Starlette apps: the shared one (every channel, status page and ``/_sim`` control) and the
one-channel app served on a channel's own port."""

from __future__ import annotations

import json
from collections import deque
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sorawatch.errors import ScenarioError
from sorawatch.simulator.engine import SimEngine
from sorawatch.simulator.scenario import Fault

INBOX_SIZE = 1000  # alerts the demo's webhook inbox keeps

_METHODS = ["GET", "POST", "DELETE", "PUT", "PATCH"]


def describe_fault(fault: Fault) -> dict[str, Any]:
    out: dict[str, Any] = {"fault": fault.fault}
    out.update(fault.model_dump(mode="json", exclude_defaults=True, exclude={"fault"}))
    return out


def build_app(engine: SimEngine) -> Starlette:
    async def channel(request: Request) -> Response:
        params = request.path_params
        return await engine.channel_request(request, params["channel"], params["path"] or "/")

    async def status_page(request: Request) -> Response:
        page = request.path_params["page"]
        base = str(request.base_url).rstrip("/") + f"/status/{page}"
        return engine.page_request(request, page, request.path_params["path"], base)

    async def index(request: Request) -> Response:
        sc = engine.scenario
        return JSONResponse(
            {
                "simulator": "sorawatch",
                "scenario": sc.name,
                "description": sc.description,
                "channels": len(engine.channels),
                "status_pages": sorted(engine.pages),
                "control": ["/_sim/state", "/_sim/fault", "/_sim/reset", "/_sim/inbox"],
            }
        )

    async def state(request: Request) -> Response:
        faulty_only = request.query_params.get("faulty") in ("1", "true")
        t = engine.elapsed()
        channels: dict[str, Any] = {}
        for cid in engine.channels:
            fault = engine.fault_at(cid, t)
            if faulty_only and fault.is_ok:
                continue
            entry = describe_fault(fault)
            entry["source"] = "override" if cid in engine.overrides else "timeline"
            channels[cid] = entry
        pages: dict[str, Any] = {}
        for pid, page in engine.pages.items():
            loop = engine.scenario.loop
            snap = page.snapshot(t % loop if loop else t)
            pages[pid] = {
                "components": snap.components,
                "open_incidents": [i.name for i in snap.incidents if i.open],
            }
        body = {"scenario": engine.scenario.name, "t": round(t, 3), "loop": engine.scenario.loop}
        return JSONResponse({**body, "channels": channels, "status_pages": pages})

    async def set_fault(request: Request) -> Response:
        try:
            body = json.loads(await request.body())
        except ValueError:
            return JSONResponse({"error": "expected a JSON object"}, status_code=400)
        if not isinstance(body, dict) or not isinstance(body.get("channel"), str):
            return JSONResponse(
                {"error": 'expected {"channel": ID, "fault": NAME|null, ...}'}, status_code=400
            )
        cid, fault = body.pop("channel"), body.pop("fault", None)
        try:
            engine.set_fault(cid, fault, body)
        except ScenarioError as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        now = engine.fault_at(cid)
        return JSONResponse({"channel": cid, **describe_fault(now)})

    async def reset(request: Request) -> Response:
        engine.reset()
        return JSONResponse({"reset": True})

    # A webhook receiver for the demo's alerts (Apprise json://): what arrived, newest last.
    inbox: deque[Any] = deque(maxlen=INBOX_SIZE)

    async def inbox_post(request: Request) -> Response:
        try:
            inbox.append(json.loads(await request.body()))
        except ValueError:
            return JSONResponse({"error": "expected JSON"}, status_code=400)
        return JSONResponse({"received": len(inbox)})

    async def inbox_get(request: Request) -> Response:
        return JSONResponse(list(inbox))

    return Starlette(
        routes=[
            Route("/", index),
            Route("/ch/{channel}/v1{path:path}", channel, methods=_METHODS),
            Route("/status/{page}/{path:path}", status_page),
            Route("/_sim/state", state),
            Route("/_sim/fault", set_fault, methods=["POST"]),
            Route("/_sim/reset", reset, methods=["POST"]),
            Route("/_sim/inbox", inbox_post, methods=["POST"]),
            Route("/_sim/inbox", inbox_get, methods=["GET"]),
        ]
    )


def build_channel_app(engine: SimEngine, channel_id: str) -> Starlette:
    """The app on a channel's own port: the channel's ``/v1`` at the root."""

    async def channel(request: Request) -> Response:
        return await engine.channel_request(request, channel_id, request.path_params["path"] or "/")

    return Starlette(routes=[Route("/v1{path:path}", channel, methods=_METHODS)])
