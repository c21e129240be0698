"""The events and answers that tell clients how the agent is doing.

A turn ends with ``agent_event`` (``agent_finished``, or ``error`` for a
failed turn; nothing for a cancel) and then exactly one ``run_complete``,
the last event of the turn (docs/agent.md 1.4, docs/protocol.md 6.1). A
model call about to be retried is told by ``run_retry`` (crushd's, 1.8).
"""

from __future__ import annotations

import attrs

from crushd import proto

from ._errors import describe_failure
from ._lanes import RunOutcome, Turn
from ._ports import EventSink
from ._retry import RetryNotice
from .providers import ResolvedModel


def publish_run_complete(events: EventSink, turn: Turn, outcome: RunOutcome) -> None:
    """Publish ``run_complete`` for ``turn`` (its ``run_id`` and ``client_id``)."""
    payload = proto.RunComplete(
        session_id=turn.session_id,
        message_id=outcome.message_id,
        run_id=turn.run_id,
        text=outcome.text,
        error=outcome.error,
        cancelled=outcome.cancelled,
        client_id=turn.client_id,
    )
    events.publish(proto.RUN_COMPLETE_EVENT, proto.UPDATED, payload)


def publish_run_retry(events: EventSink, turn: Turn, notice: RetryNotice) -> None:
    """Publish ``run_retry`` (crushd addition) for a model call of ``turn``.

    The caller has already written the reset message (write, then publish).
    """
    payload = proto.RunRetry(
        session_id=turn.session_id,
        error=describe_failure(notice.error).error,
        retry=notice.retry,
        retries=notice.retries,
        delay_seconds=notice.delay_seconds,
        run_id=turn.run_id,
        client_id=turn.client_id,
    )
    events.publish(proto.RUN_RETRY_EVENT, proto.CREATED, payload)


def publish_turn_end(
    events: EventSink, turn: Turn, outcome: RunOutcome, title: str
) -> None:
    """Publish a finished turn's ``agent_event`` (if any), then ``run_complete``.

    Args:
        events: the event log.
        turn: the finished turn.
        outcome: how it ended.
        title: the session's title, for ``agent_finished``.
    """
    if outcome.error:
        event = proto.AgentEvent(
            type=proto.AGENT_ERROR,
            error=outcome.error,
            session_id=turn.session_id,
            run_id=turn.run_id,
        )
        events.publish(proto.AGENT_EVENT, proto.CREATED, event)
    elif not outcome.cancelled:
        event = proto.AgentEvent(
            type=proto.AGENT_FINISHED,
            session_id=turn.session_id,
            session_title=title,
        )
        events.publish(proto.AGENT_EVENT, proto.CREATED, event)
    publish_run_complete(events, turn, outcome)


def agent_info(
    is_busy: bool, is_ready: bool, large: ResolvedModel | None
) -> dict[str, object]:
    """The ``GET /agent`` answer as JSON data (zero model before ``init``)."""
    info = proto.AgentInfo(is_busy=is_busy, is_ready=is_ready)
    if large is not None:
        info = proto.AgentInfo(
            is_busy=is_busy,
            is_ready=is_ready,
            model=_catalog_model(large),
            model_cfg=_selected(large),
        )
    data: dict[str, object] = proto.converter.unstructure(info)
    return data


def _catalog_model(model: ResolvedModel) -> proto.CatalogModel:
    facts = model.model
    return proto.CatalogModel(
        id=facts.id,
        name=facts.name,
        cost_per_1m_in=facts.cost_per_1m_in,
        cost_per_1m_out=facts.cost_per_1m_out,
        cost_per_1m_in_cached=facts.cost_per_1m_in_cached,
        cost_per_1m_out_cached=facts.cost_per_1m_out_cached,
        context_window=facts.context_window,
        default_max_tokens=facts.default_max_tokens,
        can_reason=facts.can_reason,
        reasoning_levels=list(facts.reasoning_levels),
        default_reasoning_effort=facts.default_reasoning_effort,
        supports_attachments=facts.supports_attachments,
        options=dict(facts.options),
    )


def _selected(model: ResolvedModel) -> proto.SelectedModel:
    # The config's typed SelectedModel and its wire twin share every field.
    return proto.SelectedModel(**attrs.asdict(model.selected))
