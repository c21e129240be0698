"""Client-side additions to ``crushd.proto``'s permission and question models.

The wire models themselves (``PermissionRequest``, ``QuestionBatchRequest``,
...) are shared with the daemon in ``crushd.proto``; this module adds the
question type names, what a notification means, and the bang shell route's
shapes (docs/protocol.md 2.8), which ``crushd.proto`` does not hold.
"""

from __future__ import annotations

import attrs

from crushd.proto import OMITEMPTY, PermissionNotification

#: ``QuestionItem.type`` values (``crushd.proto.QUESTION_TYPES``).
YES_NO = "yes_no"
SINGLE_CHOICE = "single_choice"
MULTI_CHOICE = "multi_choice"
FREE_TEXT = "free_text"


def is_resolved(notification: PermissionNotification) -> bool:
    """True when the notification decides its request (granted, denied, cancelled).

    Both ``granted`` and ``denied`` false means "asking" (docs/agent.md 3.2).
    """
    return notification.granted or notification.denied or notification.cancelled


@attrs.frozen
class ShellRequest:
    """``POST .../shell`` body; ``term_width`` 0 leaves the width to the daemon."""

    command: str
    term_width: int = attrs.field(default=0, metadata=OMITEMPTY)


@attrs.frozen
class ShellResult:
    """``POST .../shell``'s answer: the combined output and the exit status."""

    output: str = ""
    exit_code: int = 0
