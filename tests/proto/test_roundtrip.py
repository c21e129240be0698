"""Property tests: wire models survive ``to_json`` then ``from_json`` unchanged."""

from __future__ import annotations

import json

import attrs
from hypothesis import given

from crushd.proto import Message, Session, Workspace, from_json, to_json

from ..strategies import messages, sessions, workspaces


@given(sessions)
def test_roundtrip_session(session: Session) -> None:
    """Decoding an encoded session gives an equal session."""
    assert from_json(to_json(session), Session) == session


@given(workspaces)
def test_roundtrip_workspace(workspace: Workspace) -> None:
    """Decoding an encoded workspace gives an equal workspace."""
    assert from_json(to_json(workspace), Workspace) == workspace


@given(messages)
def test_roundtrip_message(message: Message) -> None:
    """Decoding an encoded message (with opaque part data) gives an equal message."""
    assert from_json(to_json(message), Message) == message


@given(workspaces)
def test_roundtrip_workspace_omits_exactly_the_default_omitempty_fields(
    workspace: Workspace,
) -> None:
    """An omitempty key is in the JSON exactly when its value is not the default."""
    encoded = json.loads(to_json(workspace))
    defaults = Workspace()  # every Workspace field has a default
    for field in attrs.fields(Workspace):
        if not field.metadata.get("omitempty"):
            assert field.name in encoded
            continue
        is_default = getattr(workspace, field.name) == getattr(defaults, field.name)
        assert (field.name in encoded) is not is_default, field.name


@given(sessions)
def test_roundtrip_session_encoding_is_stable(session: Session) -> None:
    """Re-encoding a decoded session gives the same bytes (deterministic output)."""
    assert to_json(from_json(to_json(session), Session)) == to_json(session)
