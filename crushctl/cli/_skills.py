"""``crushctl skills``: the workspace's skills and discovery errors; their events."""

from __future__ import annotations

import argparse
from pathlib import PurePath

from crushd.proto import SkillInfo, SkillState

from ._common import Context, joined_workspace
from ._output import plain, print_json, print_table

_HEADERS = ("NAME", "SOURCE", "STATE", "DESCRIPTION")
_DESCRIPTION_CHARS = 60
_LISTED_NAMES = 5


async def cmd_skills(ctx: Context, args: argparse.Namespace) -> None:
    """Print the skills of the workspace for ``--cwd``, bad ones with their error.

    ``GET /skills`` rescans first; the states (errors included) are then read
    from the workspace itself (``Workspace.skills``).
    """
    cwd = getattr(args, "cwd", None)
    async with joined_workspace(ctx.client, cwd, spawn=ctx.spawn) as workspace:
        skills = await ctx.client.skills(workspace.id)
        states = (await ctx.client.workspace(workspace.id)).skills
    if ctx.json:
        print_json(
            {
                "workspace_id": workspace.id,
                "skills": plain(skills),
                "states": plain(states),
            }
        )
    elif not skills and not states:
        print("no skills")
    else:
        print_table(_HEADERS, skill_rows(skills, states))


def skill_rows(
    skills: list[SkillInfo], states: list[SkillState]
) -> list[tuple[str, ...]]:
    """Return one table row per visible skill, then one per discovery error."""
    rows: list[tuple[str, ...]] = [
        (s.name, s.source, "ok", _clip(s.description)) for s in skills
    ]
    rows += [
        (_error_name(s), "-", "error", f"{s.error} ({s.path})")
        for s in states
        if s.state != 0
    ]
    return rows


def skills_summary(payload: object) -> str:
    """Summarise a ``skills_event`` payload for ``crushctl watch``.

    Example: ``2 skills: a, b; 1 error: broken (description is required)``.
    """
    states = payload.get("states") if isinstance(payload, dict) else None
    entries = [s for s in states or () if isinstance(s, dict)]
    good = [str(s.get("name", "")) for s in entries if s.get("state", 0) == 0]
    bad = [s for s in entries if s.get("state", 0) != 0]
    text = f"{_count(len(good), 'skill')}{_names(good)}"
    if bad:
        first = bad[0]
        name = first.get("name") or PurePath(str(first.get("path", ""))).parent.name
        text += f"; {_count(len(bad), 'error')}: {name} ({first.get('error', '')})"
    return text


def _error_name(state: SkillState) -> str:
    # A bad YAML file has no name yet; its folder is what the user looks for.
    return state.name or PurePath(state.path).parent.name or state.path


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def _names(names: list[str]) -> str:
    if not names:
        return ""
    shown = ", ".join(names[:_LISTED_NAMES])
    more = len(names) - _LISTED_NAMES
    return f": {shown}" + (f" and {more} more" if more > 0 else "")


def _clip(text: str) -> str:
    line = text.splitlines()[0] if text else ""
    if len(line) <= _DESCRIPTION_CHARS and line == text:
        return text
    return line[: _DESCRIPTION_CHARS - 1] + "…"
