"""Shared hypothesis strategies for wire models (attrs' ``tests/strategies.py`` style).

Every strategy builds values that are valid on the wire: integers fit Go's
int64, floats are finite (JSON has no NaN or infinity) and opaque JSON values
(``Workspace.config``, ``Part.data``) are plain JSON data.
"""

from __future__ import annotations

from hypothesis import strategies as st

from crushd.proto import (
    TODO_STATUSES,
    Message,
    Part,
    Session,
    SkillState,
    Todo,
    Workspace,
)

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1

#: A Go ``int64`` (the wire type of counters and Unix timestamps).
int64s = st.integers(min_value=INT64_MIN, max_value=INT64_MAX)
#: Unix seconds, never negative.
timestamps = st.integers(min_value=0, max_value=INT64_MAX)
#: A finite float; JSON has no NaN or infinity.
finite_floats = st.floats(allow_nan=False, allow_infinity=False)
#: Short text, any Unicode except surrogates (hypothesis' default alphabet).
texts = st.text(max_size=20)
#: A client id in the canonical 36-character form, any UUID version.
client_ids = st.uuids().map(str)
#: An opaque id as the store hands them out.
ids = st.uuids(version=4).map(str)

#: Any JSON value: what ``json.loads`` can return.
json_values = st.recursive(
    st.none() | st.booleans() | int64s | finite_floats | texts,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(texts, inner, max_size=4)
    ),
    max_leaves=10,
)
#: A JSON object (``dict[str, object]``).
json_objects = st.dictionaries(texts, json_values, max_size=4)

todos = st.builds(
    Todo, content=texts, status=st.sampled_from(TODO_STATUSES), active_form=texts
)

sessions = st.builds(
    Session,
    id=ids,
    title=texts,
    parent_session_id=st.just("") | ids,
    message_count=st.integers(min_value=0, max_value=INT64_MAX),
    prompt_tokens=st.integers(min_value=0, max_value=INT64_MAX),
    completion_tokens=st.integers(min_value=0, max_value=INT64_MAX),
    summary_message_id=st.just("") | ids,
    cost=finite_floats,
    todos=st.lists(todos, max_size=3),
    created_at=timestamps,
    updated_at=timestamps,
    is_busy=st.booleans(),
    attached_clients=st.integers(min_value=0, max_value=1000),
)

parts = st.builds(
    Part,
    type=st.sampled_from(["text", "reasoning", "tool_call", "tool_result", "finish"]),
    data=json_objects,
)

messages = st.builds(
    Message,
    id=ids,
    role=st.sampled_from(["user", "assistant", "tool", "system"]),
    session_id=ids,
    parts=st.lists(parts, max_size=3),
    model=texts,
    provider=texts,
    created_at=timestamps,
    updated_at=timestamps,
    is_summary_message=st.booleans(),
)

skill_states = st.builds(
    SkillState,
    name=texts,
    path=texts,
    state=st.sampled_from([0, 1]),
    error=texts,
)

workspaces = st.builds(
    Workspace,
    id=st.just("") | ids,
    path=texts,
    yolo=st.booleans(),
    debug=st.booleans(),
    data_dir=texts,
    version=texts,
    client_id=st.just("") | client_ids,
    config=st.none() | json_objects,
    env=st.lists(texts, max_size=3),
    channels=st.lists(texts, max_size=3),
    skills=st.lists(skill_states, max_size=2),
)
