"""The limits a question batch must meet, and the defaults it gets.

Error texts are written for the model (it reads them as the tool's error
result and retries): specific, with the limit and the value found. Lengths
are counted in characters.

Source: Crush ``internal/question/question.go`` ``Validate`` and ``Ask``
(docs/agent.md 2.2 and 3.3, docs/protocol.md 6.6).
"""

from __future__ import annotations

import uuid

import attrs

from crushd.proto import QUESTION_TYPES, QuestionBatchRequest, QuestionItem

MAX_QUESTIONS = 5
MAX_CHOICES = 5
MIN_CHOICES = 2
MAX_QUESTION_CHARS = 240
MAX_DESCRIPTION_CHARS = 600
MAX_CHOICE_LABEL_CHARS = 200
MAX_CHOICE_DESCRIPTION_CHARS = 200

#: Confirm texts a batch of two or more questions gets when it has none.
DEFAULT_CONFIRM_TITLE = "Ready to go?"
DEFAULT_CONFIRM_DESCRIPTION = "Review your answers above and confirm."

_CHOICE_TYPES = ("single_choice", "multi_choice")


def prepare_batch(
    session_id: str,
    tool_call_id: str,
    questions: list[QuestionItem],
    confirm_title: str = "",
    confirm_description: str = "",
) -> QuestionBatchRequest:
    """Check a batch and return it with ids and default confirm texts filled in.

    The batch gets a fresh UUID, and so does every question without an id.

    Raises:
        ValueError: a limit is broken; the message names the question
            (``question 2 [Label]: ...``) and the limit.
    """
    if not questions:
        raise ValueError("at least one question is required")
    if len(questions) > MAX_QUESTIONS:
        raise ValueError(
            f"exceeds maximum of {MAX_QUESTIONS} questions per batch (got "
            f"{len(questions)}). Split into multiple batches and tell the user "
            "there will be follow-up questions"
        )
    for index, item in enumerate(questions, 1):
        _check_question(index, item)
    if len(questions) >= 2:
        confirm_title = confirm_title or DEFAULT_CONFIRM_TITLE
        confirm_description = confirm_description or DEFAULT_CONFIRM_DESCRIPTION
    return QuestionBatchRequest(
        id=str(uuid.uuid4()),
        session_id=session_id,
        tool_call_id=tool_call_id,
        questions=[attrs.evolve(q, id=q.id or str(uuid.uuid4())) for q in questions],
        confirm_title=confirm_title,
        confirm_description=confirm_description,
    )


def _check_question(index: int, item: QuestionItem) -> None:
    name = f"question {index} {_identifier(item)}"
    if item.type not in QUESTION_TYPES:
        raise ValueError(
            f"{name}: invalid type {item.type!r} (must be yes_no, single_choice, "
            "multi_choice, or free_text)"
        )
    _check_text(name, "question text", item.question, MAX_QUESTION_CHARS)
    _check_text(name, "description", item.description, MAX_DESCRIPTION_CHARS)
    if item.type in _CHOICE_TYPES:
        _check_choices(name, item)


def _check_text(name: str, what: str, text: str, limit: int) -> None:
    if not text:
        raise ValueError(f"{name}: {what} is required")
    if len(text) > limit:
        raise ValueError(f"{name}: {what} exceeds {limit} characters (got {len(text)})")


def _check_choices(name: str, item: QuestionItem) -> None:
    count = len(item.choices)
    if count < MIN_CHOICES:
        raise ValueError(
            f"{name}: {item.type} requires at least {MIN_CHOICES} choices in the "
            f'"choices" array (got {count})'
        )
    if count > MAX_CHOICES:
        raise ValueError(
            f"{name}: choices exceed maximum of {MAX_CHOICES} (got {count}); "
            "group or prioritise them"
        )
    seen: set[str] = set()
    for number, choice in enumerate(item.choices, 1):
        where = f"{name}: choice {number}"
        if not choice.id:
            raise ValueError(f'{where} must have an "id" field')
        if choice.id in seen:
            raise ValueError(f"{where} has duplicate id {choice.id!r}")
        seen.add(choice.id)
        _check_text(where, "label", choice.label, MAX_CHOICE_LABEL_CHARS)
        if len(choice.description) > MAX_CHOICE_DESCRIPTION_CHARS:
            raise ValueError(
                f"{where} description exceeds {MAX_CHOICE_DESCRIPTION_CHARS} "
                f"characters (got {len(choice.description)})"
            )


def _identifier(item: QuestionItem) -> str:
    if item.label:
        return f"[{item.label}]"
    if item.question:
        text = item.question
        return f"[{text[:40]}…]" if len(text) > 40 else f"[{text}]"
    return "[unnamed question]"
