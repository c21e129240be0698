"""Writing skill folders for the skills tests."""

from __future__ import annotations

from pathlib import Path


def skill_text(name: str, description: str = "Does a thing.", extra: str = "") -> str:
    """Return a SKILL.md with the given front matter fields and a short body."""
    return f"---\nname: {name}\ndescription: {description}\n{extra}---\n# {name}\n"


def write_skill(
    root: Path, folder: str, text: str | None = None, *, name: str | None = None
) -> Path:
    """Write ``root/folder/SKILL.md`` (a valid skill named ``folder`` by default)."""
    skill_dir = root / folder
    skill_dir.mkdir(parents=True, exist_ok=True)
    path = skill_dir / "SKILL.md"
    path.write_text(text if text is not None else skill_text(name or folder))
    return path
