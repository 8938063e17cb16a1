"""Wire protocols the simulator speaks. One module per protocol, one line in ``PROTOCOLS``.

``newapi-videos``, ``gemini-veo``, ``aggregator-videos`` and ``openai-images`` slot in here the
same way: a class with ``name``, ``routes``, ``route_name`` and ``handle`` (see ``base``).
"""

from __future__ import annotations

import importlib
from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sorawatch.simulator.protocols.base import SimProtocol

# protocol name -> "module:Class", imported lazily so scenario validation stays cheap.
PROTOCOLS: dict[str, str] = {
    "openai-videos": "sorawatch.simulator.protocols.openai_videos:OpenAIVideosProtocol",
    "newapi-videos": "sorawatch.simulator.protocols.newapi_videos:NewApiVideosProtocol",
    "aggregator-videos": (
        "sorawatch.simulator.protocols.aggregator_videos:AggregatorVideosProtocol"
    ),
    "gemini-veo": "sorawatch.simulator.protocols.gemini_veo:GeminiVeoProtocol",
    "openai-images": "sorawatch.simulator.protocols.openai_images:OpenAIImagesProtocol",
    "http": "sorawatch.simulator.protocols.http_check:HttpCheckProtocol",
}


@cache
def protocol_class(name: str) -> type[SimProtocol]:
    module_name, _, attr = PROTOCOLS[name].partition(":")
    cls: type[SimProtocol] = getattr(importlib.import_module(module_name), attr)
    return cls


def protocol_routes(name: str) -> tuple[str, ...]:
    """The route names a fault's ``routes:`` may list for this protocol."""
    return protocol_class(name).routes
