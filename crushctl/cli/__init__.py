"""The ``crushctl`` admin CLI: ``crushctl [--host URL] [--json] COMMAND``."""

from ._main import build_parser, main, main_async

__all__ = ["build_parser", "main", "main_async"]
