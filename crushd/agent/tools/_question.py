"""The ``question`` tool: ask the people at the keyboards, wait for an answer.

Offered to interactive agents only. The batch goes to the workspace's
question service (every attached client shows it); the first client to
answer or cancel wins. Answers come back to the model as text.

Source: Crush ``internal/agent/tools/question.go`` (parameter names, the
``options`` alias, ``questions`` sent as a JSON string, the answer text, the
cancel result); docs/agent.md 2.2 and 3.3.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from typing import cast

from crushd.proto import QUESTION_TYPES, QuestionChoice, QuestionItem, QuestionResponse

from ._input import InputError, JSONObject, parse_input, prop, schema
from ._types import ToolCall, ToolContext, ToolResult

#: The result when a client cancels the batch; the turn ends after it.
QUESTION_CANCELLED_TEXT = "User cancelled this question"

QUESTION_DESCRIPTION = """\
Ask the user one or more structured questions and wait for the answers. Use \
it when you need a decision, a confirmation or a preference before going on; \
not for facts you can find in the code, and not for permission to run a tool \
(the permission system asks for that).

Each item of `questions` needs `type`, `question` (one short line) and \
`description` (markdown context: details, trade-offs, examples; always \
required). Types:
- `yes_no`: a proposition the user accepts or rejects ("Delete the old \
files?"). Never for a choice between two alternatives.
- `single_choice`: pick one of `choices` (2 to 5), also for two named options.
- `multi_choice`: pick any of `choices` (2 to 5).
- `free_text`: an open answer.
Each choice has a unique `id`, a `label` and an optional `description`. Choice \
questions always offer a free-text answer too: do not add an "Other" choice.

Limits: at most 5 questions per call (split larger sets and say more will \
follow), 5 choices per question, question text 240 characters, description \
600, choice label and description 200. With several questions, give each a \
short `label` (its tab, 3 words at most) and set `confirm_title` (e.g. \
"Ready to go?") and `confirm_description` (what will happen with the answers \
you expect)."""

_CHOICE = schema(
    {
        "id": prop("string", "Unique id of the choice"),
        "label": prop("string", "Text shown for the choice"),
        "description": prop("string", "Optional detail for the choice"),
    },
    required=("id", "label"),
)

_ITEM_PROPERTIES: JSONObject = {
    "label": prop("string", "Short tab label (3 words at most)"),
    "type": prop("string", "The kind of question", enum=list(QUESTION_TYPES)),
    "question": prop("string", "The question, one line"),
    "description": prop("string", "Markdown context shown below the question"),
    "choices": prop("array", "The options of a choice question", items=_CHOICE),
}

QUESTION_PARAMETERS = schema(
    {
        "questions": prop(
            "array",
            "The questions; several are shown as tabs with a confirmation",
            items=schema(
                _ITEM_PROPERTIES, required=("type", "question", "description")
            ),
        ),
        "confirm_title": prop("string", "Title of the confirmation tab (batches)"),
        "confirm_description": prop("string", "Text of the confirmation tab"),
    },
    required=("questions",),
)

# What the input is checked against once ``questions`` is an array: the
# published schema plus upstream's ``options`` alias for ``choices``.
_ACCEPTED = schema(
    {
        **cast("JSONObject", QUESTION_PARAMETERS["properties"]),
        "questions": prop(
            "array",
            "",
            items=schema(
                {**_ITEM_PROPERTIES, "options": prop("array", "", items=_CHOICE)},
                required=("type", "question", "description"),
            ),
        ),
    },
    required=("questions",),
)


class QuestionTool:
    """``question``: ask the clients a batch of questions and wait."""

    def __init__(self) -> None:
        self.name = "question"
        self.description = QUESTION_DESCRIPTION
        self.parameters = QUESTION_PARAMETERS
        self.parallel = False

    async def run(self, call: ToolCall, ctx: ToolContext) -> ToolResult:
        """Ask through ``ctx.questions``; the answers as text for the model.

        Bad input or a broken limit is an error result; a cancelled batch is
        ``QUESTION_CANCELLED_TEXT`` with ``stop_turn``. Run cancellation
        propagates (``trio.Cancelled``).
        """
        if ctx.questions is None:
            return ToolResult("no client can answer questions here", is_error=True)
        try:
            args = _parse(call.input)
        except InputError as exc:
            return exc.result()
        items = [_item(raw) for raw in cast("list[JSONObject]", args["questions"])]
        try:
            responses = await ctx.questions.ask(
                ctx.session_id,
                ctx.tool_call_id,
                items,
                str(args.get("confirm_title", "")),
                str(args.get("confirm_description", "")),
            )
        except ValueError as exc:
            return ToolResult(str(exc), is_error=True)
        if responses is None:
            return ToolResult(QUESTION_CANCELLED_TEXT, is_error=True, stop_turn=True)
        return ToolResult(format_answers(responses, items))


def format_answers(
    responses: Sequence[QuestionResponse], questions: Sequence[QuestionItem]
) -> str:
    """Return the answers as the model reads them (docs/agent.md 3.3).

    One block per response: ``Qn: <question>`` (the question whose id is
    ``request_id``, else the one at the same position), then the answer and
    any notes; blocks are separated by a blank line. No responses at all
    count as every question skipped.
    """
    if not responses:
        responses = [QuestionResponse(request_id=q.id) for q in questions]
    blocks = []
    for position, response in enumerate(responses):
        number, question = _question_for(response, questions, position)
        head = f"Q{number}: {question.question}\n" if question else ""
        blocks.append(head + _answer_text(response))
    return "\n\n".join(blocks)


def _parse(text: str) -> JSONObject:
    args = parse_input(text, schema({}, required=("questions",)))
    questions = args["questions"]
    if isinstance(questions, str):
        # Some models send the array as a JSON string.
        try:
            args["questions"] = json.loads(questions.strip())
        except ValueError as exc:
            raise InputError(f"questions must be an array: {exc}") from None
    return parse_input(json.dumps(args), _ACCEPTED)


def _item(raw: JSONObject) -> QuestionItem:
    choices = cast("list[JSONObject]", raw.get("choices") or raw.get("options") or [])
    return QuestionItem(
        id=str(uuid.uuid4()),
        type=str(raw["type"]),
        label=str(raw.get("label") or ""),
        question=str(raw["question"]),
        description=str(raw["description"]),
        choices=[
            QuestionChoice(
                str(c["id"]), str(c["label"]), str(c.get("description") or "")
            )
            for c in choices
        ],
    )


def _question_for(
    response: QuestionResponse, questions: Sequence[QuestionItem], position: int
) -> tuple[int, QuestionItem | None]:
    for number, question in enumerate(questions, 1):
        if response.request_id and question.id == response.request_id:
            return number, question
    if position < len(questions):
        return position + 1, questions[position]
    return position + 1, None


def _answer_text(response: QuestionResponse) -> str:
    if response.yes is not None:
        text = "User answered: yes" if response.yes else "User answered: no"
    elif response.selected_ids or response.fill_in_text:
        parts = []
        if response.selected_ids:
            selected = json.dumps(
                response.selected_ids, separators=(",", ":"), ensure_ascii=False
            )
            parts.append(f"User selected: {selected}")
        if response.fill_in_text:
            parts.append(f"User provided: {response.fill_in_text}")
        text = "\n".join(parts)
    else:
        text = "User skipped this question"
    return text + _notes_text(response.notes)


def _notes_text(notes: dict[str, str]) -> str:
    if not notes:
        return ""
    lines = [
        f"- {note}" if key == "_question" else f"- [{key}]: {note}"
        for key, note in notes.items()
    ]
    return "\n\nNotes:\n" + "\n".join(lines)
