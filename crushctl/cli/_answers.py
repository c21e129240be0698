"""Turn what a person typed (a line, or ``crushctl answer``'s flags) into answers.

A choice is named by its number (1-based), its id or its label (any case).
Answers follow docs/protocol.md 2.7: ``request_id`` carries the question id,
``selected_ids`` the choices, ``yes`` a yes/no answer, ``fill_in_text`` text.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from crushctl import (
    MULTI_CHOICE,
    SINGLE_CHOICE,
    YES_NO,
    CrushctlError,
)
from crushd.proto import (
    QuestionBatchRequest,
    QuestionItem,
    QuestionResponse,
)

#: What ``[y]es`` / ``[n]o`` accept.
YES_WORDS = frozenset({"y", "yes"})
NO_WORDS = frozenset({"n", "no"})
_SEPARATORS = re.compile(r"[,\s]+")


def match_choice(item: QuestionItem, token: str) -> str | None:
    """Return the id of ``item``'s choice named by ``token``, or ``None``."""
    choices = item.choices or []
    token = token.strip()
    if token.isdigit() and 1 <= int(token) <= len(choices):
        return choices[int(token) - 1].id
    for choice in choices:
        if token == choice.id or token.casefold() == choice.label.casefold():
            return choice.id
    return None


def parse_line(item: QuestionItem, line: str) -> QuestionResponse | None:
    """Return the answer ``line`` gives to ``item``; ``None`` if it is no answer.

    yes/no takes ``y``/``yes``/``n``/``no``; a single choice one choice; a
    multiple choice one or more, separated by commas or spaces; free text
    any line (empty skips the question).
    """
    text = line.strip()
    if item.type == YES_NO:
        word = text.casefold()
        if word not in YES_WORDS | NO_WORDS:
            return None
        return QuestionResponse(request_id=item.id, yes=word in YES_WORDS)
    if item.type in (SINGLE_CHOICE, MULTI_CHOICE):
        tokens = [t for t in _SEPARATORS.split(text) if t]
        if item.type == SINGLE_CHOICE:
            tokens = [text] if text else []
        ids = [match_choice(item, token) for token in tokens]
        if not ids or None in ids:
            return None
        return QuestionResponse(request_id=item.id, selected_ids=[i for i in ids if i])
    return QuestionResponse(request_id=item.id, fill_in_text=text)


def ask_text(item: QuestionItem) -> str:
    """Return the input hint for ``item``: ``[y]es / [n]o``, ``choice``, ``text``."""
    if item.type == YES_NO:
        return "[y]es / [n]o: "
    if item.type == SINGLE_CHOICE:
        return "choice (number or id): "
    if item.type == MULTI_CHOICE:
        return "choices (numbers or ids, comma separated): "
    return "answer (empty to skip): "


def responses_from_flags(
    batch: QuestionBatchRequest,
    choices: Sequence[str],
    yes: bool | None,
    texts: Sequence[str],
) -> list[QuestionResponse]:
    """Answer every question of ``batch`` from ``crushctl answer``'s flags.

    Each ``--choice`` goes to the question that has that choice; ``--yes`` or
    ``--no`` answers every yes/no question; the ``--text`` values go to the
    free-text questions in order.

    Raises:
        CrushctlError: a choice no question has, or a question left unanswered.
    """
    questions = batch.questions or []
    picked = _choices_by_question(questions, choices)
    text_values = list(texts)
    responses = []
    for item in questions:
        response = _response(item, picked.get(item.id, []), yes, text_values)
        if response is None:
            raise CrushctlError(f"question {item.id} is not answered: {_how(item)}")
        responses.append(response)
    return responses


def _choices_by_question(
    questions: Sequence[QuestionItem], choices: Sequence[str]
) -> dict[str, list[str]]:
    picked: dict[str, list[str]] = {}
    for token in choices:
        owners = [
            (q.id, choice_id)
            for q in questions
            if q.type in (SINGLE_CHOICE, MULTI_CHOICE)
            and (choice_id := match_choice(q, token)) is not None
        ]
        if not owners:
            raise CrushctlError(f"no pending question has the choice {token!r}")
        question_id, choice_id = owners[0]
        picked.setdefault(question_id, []).append(choice_id)
    return picked


def _response(
    item: QuestionItem, picked: list[str], yes: bool | None, texts: list[str]
) -> QuestionResponse | None:
    if item.type == YES_NO:
        return None if yes is None else QuestionResponse(request_id=item.id, yes=yes)
    if item.type in (SINGLE_CHOICE, MULTI_CHOICE):
        if not picked or (item.type == SINGLE_CHOICE and len(picked) > 1):
            return None
        return QuestionResponse(request_id=item.id, selected_ids=picked)
    if not texts:
        return None
    return QuestionResponse(request_id=item.id, fill_in_text=texts.pop(0))


def _how(item: QuestionItem) -> str:
    if item.type == YES_NO:
        return "give --yes or --no"
    if item.type == SINGLE_CHOICE:
        return "give one --choice"
    if item.type == MULTI_CHOICE:
        return "give --choice (repeatable)"
    return "give --text"  # free text, or a type this crushctl does not know
