"""The limit: ``python -m stress.bench._sdk_loop BASE_URL WARM_UP PROMPT``.

A bare ``openai`` SDK loop (the sync client, no daemon) streams one scripted
answer and parses every chunk into the SDK's objects, joining the text. A
first, untimed answer (``WARM_UP``) loads the SDK's lazy parts and opens the
connection, as the daemon has by the time it is measured. It then prints
``{"last": <time.time() after the last delta>, "deltas": N, "text": ...}``.
The agent benchmark compares the daemon's sustained delta rate with this
one, measured on the same scripted stream in the same run.
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any


def stream(client: Any, prompt: str) -> tuple[float, int, str]:
    """Stream ``prompt``'s answer; (time after the last delta, deltas, text)."""
    tools = [
        {
            "type": "function",
            "function": {"name": "noop", "parameters": {"type": "object"}},
        }
    ]
    parts: list[str] = []
    last = time.time()
    chunks = client.chat.completions.create(
        model="bench-large",
        messages=[{"role": "user", "content": prompt}],
        tools=tools,
        stream=True,
    )
    for chunk in chunks:
        if chunk.choices and chunk.choices[0].delta.content:
            parts.append(chunk.choices[0].delta.content)
            last = time.time()
    return last, len(parts), "".join(parts)


def main() -> None:
    """Warm up, stream ``sys.argv[3]`` from ``sys.argv[1]``, print the timing."""
    import openai

    base_url, warm_up, prompt = sys.argv[1:4]
    client = openai.OpenAI(base_url=base_url, api_key="bench", max_retries=0)
    stream(client, warm_up)
    last, deltas, text = stream(client, prompt)
    client.close()
    print(json.dumps({"last": last, "deltas": deltas, "text": text}))


if __name__ == "__main__":
    main()
