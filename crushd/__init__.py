"""crushd: a Trio daemon sharing one AI-coding-agent workspace per project directory."""

from ._version import __version__

__all__ = ["__version__"]
