"""The coding agent: runs prompts against a model provider with tools.

Used by ``crushd.workspace`` through small ports; never imported at daemon
start (the provider SDK is loaded in a worker thread at ``agent/init``).
"""

__all__: list[str] = []
