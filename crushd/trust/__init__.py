"""Trust: which files another user could control, so crushd never uses them.

A leaf shared by the daemon and crushctl (both must agree on what is trusted).
See ``docs/operations.md`` ("Security model").
"""

from __future__ import annotations

from ._ownership import (
    UntrustedPathError,
    check_trusted,
    trusted_ancestors,
    untrusted_reason,
)

__all__ = [
    "UntrustedPathError",
    "check_trusted",
    "trusted_ancestors",
    "untrusted_reason",
]
