"""Protocol adapters. One module per protocol, one line in ``PROVIDERS``."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sorawatch.providers.base import Provider

# protocol name -> "module:Class", imported lazily so the config layer can validate names
# without importing httpx-heavy adapters.
PROVIDERS: dict[str, str] = {
    "openai-videos": "sorawatch.providers.openai_videos:OpenAIVideos",
    "newapi-videos": "sorawatch.providers.newapi_videos:NewApiVideos",
    "aggregator-videos": "sorawatch.providers.aggregator_videos:AggregatorVideos",
    "gemini-veo": "sorawatch.providers.gemini_veo:GeminiVeo",
    "openai-images": "sorawatch.providers.openai_images:OpenAIImages",
    "http": "sorawatch.providers.http_check:HttpCheck",
}


def provider_class(protocol: str) -> type[Provider]:
    import importlib

    module_name, _, attr = PROVIDERS[protocol].partition(":")
    cls: type[Provider] = getattr(importlib.import_module(module_name), attr)
    return cls
