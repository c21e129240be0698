"""A rehearsal of the SDK's first request, run in a worker thread at ``agent/init``.

The ``openai`` SDK does most of its one-time work on its first request: it
imports its response and streaming modules, evaluates the type hints of the
typed arguments and detects the platform. Measured here: the first request
of the process took 28 ms of which about 26 were that, the first request of
a second client 2 ms. Done on the daemon's event loop, that froze every
client at the first prompts after ``agent/init`` (the benchmark's starting
prompts, stress/RESULTS.md). So ``load_sdk`` sends one request, shaped like
crushd's, through a transport that refuses it at once, in a Trio loop of its
own in the worker thread: the caches are the process's, so the daemon's
first real request finds them warm.

Nothing leaves the process: the transport is httpx's ``MockTransport``.
"""

from __future__ import annotations

import contextlib
import logging
from types import ModuleType
from typing import Any

import trio

__all__ = ["rehearse_first_request"]

log = logging.getLogger(__name__)

#: The typed arguments crushd sends (``_wire.request_body`` after
#: ``as_body_keys``); the history and the tools go as body keys.
_PARAMS: dict[str, object] = {
    "model": "rehearsal",
    "messages": [],
    "stream": True,
    "stream_options": {"include_usage": True},
    "max_tokens": 1,
    "temperature": 0.0,
    "top_p": 1.0,
    "reasoning_effort": "low",
}
_BODY: dict[str, object] = {
    "messages": [{"role": "user", "content": "rehearsal"}],
    "tools": [],
}


def rehearse_first_request(sdk: ModuleType, httpx: ModuleType) -> bool:
    """Send one refused request through ``sdk`` in a private Trio loop.

    Call it in a worker thread (it runs ``trio.run``). Never raises.

    Returns:
        Whether the request went all the way to the refusal (False: the SDK
        failed otherwise; logged at debug level, the first prompt just pays
        the warm-up itself).
    """
    try:
        trio.run(_request_once, sdk, httpx)
    except Exception:
        log.debug("the SDK rehearsal failed", exc_info=True)
        return False
    return True


async def _request_once(sdk: ModuleType, httpx: ModuleType) -> None:
    def refuse(request: Any) -> Any:
        headers = {"x-should-retry": "false"}
        return httpx.Response(503, headers=headers, json={"error": {}})

    async with httpx.AsyncClient(transport=httpx.MockTransport(refuse)) as http:
        client = sdk.AsyncOpenAI(
            base_url="http://rehearsal.invalid/v1",
            api_key="rehearsal",
            max_retries=0,
            http_client=http,
        )
        create = client.chat.completions.with_streaming_response.create
        with contextlib.suppress(sdk.APIStatusError):
            async with create(**_PARAMS, extra_body=_BODY, extra_headers={}):
                pass
        await client.close()
