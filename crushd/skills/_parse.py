"""Reading one ``SKILL.md``: YAML front matter, markdown body, and the spec's rules.

The agentskills.io format is a markdown file that opens with a YAML block
between two ``---`` lines. ``name`` and ``description`` are required; the rest
is optional. Every rule that fails is reported, joined by ``"; "``, so a user
fixes a file in one go rather than one complaint at a time.

A ``SKILL.md`` is read only if it is a regular file of at most
``MAX_SKILL_FILE_BYTES``: a FIFO, a device or a socket is a skill error, never
a read that waits for a writer (one FIFO used to wedge workspace creation and
shutdown). A symlinked ``SKILL.md`` still works, as a symlinked skill folder
does (dotfile managers such as GNU stow or home-manager link single files): the
link is resolved first and its target must pass the same checks; the target
is then opened with ``O_NOFOLLOW`` so a link swapped in meanwhile is refused.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Mapping
from pathlib import Path

import attrs
import yaml

#: The file that makes a folder a skill.
SKILL_FILE = "SKILL.md"
#: Longest valid ``name``, in characters.
MAX_NAME_CHARS = 64
#: Longest valid ``description``, in characters.
MAX_DESCRIPTION_CHARS = 1024
#: Longest valid ``compatibility``, in characters.
MAX_COMPATIBILITY_CHARS = 500
#: A ``SKILL.md`` above this size is refused unread (it is prompt text, not data).
MAX_SKILL_FILE_BYTES = 256 * 1024

_NAME = re.compile(r"[a-zA-Z0-9]+(-[a-zA-Z0-9]+)*")
_FENCE = "---"
# O_NONBLOCK: opening a FIFO must not wait for a writer (it is refused after).
_OPEN_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
_KINDS = (
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISCHR, "a device"),
    (stat.S_ISBLK, "a device"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISDIR, "a folder"),
)


class InvalidSkillError(Exception):
    """A ``SKILL.md`` that cannot be used; ``name`` is its front-matter name, if any."""

    def __init__(self, message: str, name: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.name = name


@attrs.frozen
class Skill:
    """One valid skill, as discovered in a skills folder.

    Attributes:
        name: the front-matter ``name`` (equal to its folder's name).
        description: the front-matter ``description``.
        skill_file: the absolute path of its ``SKILL.md``; also its id.
        source: ``user`` or ``project`` (``system`` is kept for built-in
            skills, which crushd does not ship).
        user_invocable: ``user-invocable`` (may be run as a user command).
        disable_model_invocation: ``disable-model-invocation`` (hidden from
            the model's skill list).
        license: ``license``, ``""`` when absent.
        compatibility: ``compatibility``, ``""`` when absent.
        metadata: ``metadata`` as strings.
        instructions: the markdown body, stripped.
    """

    name: str
    description: str
    skill_file: Path
    source: str = "user"
    user_invocable: bool = False
    disable_model_invocation: bool = False
    license: str = ""
    compatibility: str = ""
    metadata: Mapping[str, str] = attrs.field(factory=dict)
    instructions: str = ""

    @property
    def id(self) -> str:
        """The skill's id on the wire: its ``SKILL.md`` path (as upstream)."""
        return str(self.skill_file)

    @property
    def label(self) -> str:
        """``<source>:<folder name>``, the short name a UI shows."""
        return f"{self.source}:{self.skill_file.parent.name}"


def read_skill_file(skill_file: Path, source: str) -> Skill:
    """Read, parse and validate one ``SKILL.md`` (blocking file I/O).

    Args:
        skill_file: the absolute path of the ``SKILL.md``; its parent folder's
            name must equal the skill's ``name``.
        source: ``user`` or ``project``, recorded on the skill.

    Returns:
        The valid skill.

    Raises:
        InvalidSkillError: the file is unreadable, not a regular file or over
            ``MAX_SKILL_FILE_BYTES``, has no (or an unclosed) front matter, bad
            YAML, or breaks a rule of the spec.

    Source: agentskills.io specification; Crush ``internal/skills`` Parse and
    Validate.
    """
    text = _read_text(skill_file)
    front, body = split_front_matter(text)
    fields = _load_yaml(front)
    return _build(fields, body, skill_file, source)


def split_front_matter(text: str) -> tuple[str, str]:
    """Split ``SKILL.md`` text into its YAML front matter and its body.

    A UTF-8 byte-order mark and CRLF line ends are accepted. Blank lines may
    precede the opening ``---``.

    Raises:
        InvalidSkillError: no opening ``---`` line, or no closing one.
    """
    lines = text.removeprefix("\ufeff").replace("\r\n", "\n").split("\n")
    start = next((i for i, line in enumerate(lines) if line.strip()), None)
    if start is None or lines[start].strip() != _FENCE:
        raise InvalidSkillError("no YAML front matter (the file must start with ---)")
    for end in range(start + 1, len(lines)):
        if lines[end].strip() == _FENCE:
            return "\n".join(lines[start + 1 : end]), "\n".join(lines[end + 1 :])
    raise InvalidSkillError("unclosed YAML front matter (no closing ---)")


def read_skill_bytes(skill_file: Path) -> bytes:
    """Read a ``SKILL.md``'s bytes, only if it is a small regular file (blocking).

    Never waits on a FIFO or a device: the target is checked with ``stat``
    before it is opened (so no device is ever opened), opened with
    ``O_NOFOLLOW | O_NONBLOCK`` and checked again with ``fstat``.

    Args:
        skill_file: the ``SKILL.md`` path; a symlink is resolved first.

    Returns:
        The file's bytes, at most ``MAX_SKILL_FILE_BYTES``.

    Raises:
        InvalidSkillError: ``cannot read SKILL.md: <why>``, ``SKILL.md is a
            FIFO, not a regular file`` (or a device, socket, folder) or
            ``SKILL.md is larger than 262144 bytes``.
    """
    target = os.path.realpath(skill_file)
    try:
        _check_regular(os.stat(target))
        fd = os.open(target, _OPEN_FLAGS)
    except OSError as exc:
        raise InvalidSkillError(f"cannot read {SKILL_FILE}: {_why(exc)}") from None
    try:
        _check_regular(os.fstat(fd))
        return _read_at_most(fd, MAX_SKILL_FILE_BYTES)
    except OSError as exc:
        raise InvalidSkillError(f"cannot read {SKILL_FILE}: {_why(exc)}") from None
    finally:
        os.close(fd)


def _check_regular(st: os.stat_result) -> None:
    if stat.S_ISREG(st.st_mode):
        if st.st_size > MAX_SKILL_FILE_BYTES:
            raise _too_large()
        return
    kind = next((name for test, name in _KINDS if test(st.st_mode)), "special")
    raise InvalidSkillError(f"{SKILL_FILE} is {kind}, not a regular file")


def _read_at_most(fd: int, limit: int) -> bytes:
    # The size was checked, but a file may grow between fstat and read.
    chunks: list[bytes] = []
    size = 0
    while chunk := os.read(fd, limit + 1 - size):
        chunks.append(chunk)
        size += len(chunk)
        if size > limit:
            raise _too_large()
    return b"".join(chunks)


def _too_large() -> InvalidSkillError:
    limit = MAX_SKILL_FILE_BYTES
    return InvalidSkillError(f"{SKILL_FILE} is larger than {limit} bytes")


def _why(exc: OSError) -> str:
    return exc.strerror or str(exc)


def _read_text(skill_file: Path) -> str:
    data = read_skill_bytes(skill_file)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidSkillError(f"{SKILL_FILE} is not UTF-8: {exc.reason}") from None


def _load_yaml(front: str) -> dict[object, object]:
    try:
        loaded = yaml.safe_load(front)
    except yaml.YAMLError as exc:
        raise InvalidSkillError(
            f"invalid YAML front matter: {_yaml_problem(exc)}"
        ) from None
    except RecursionError:
        # PyYAML composes nested collections recursively: "[[[[..." in a
        # file of a few KiB is a bad skill, not a crash of the scan.
        raise InvalidSkillError(
            "invalid YAML front matter: nested too deeply"
        ) from None
    if not isinstance(loaded, dict):
        raise InvalidSkillError("YAML front matter must be a mapping of fields")
    return loaded


def _yaml_problem(exc: yaml.YAMLError) -> str:
    if isinstance(exc, yaml.MarkedYAMLError) and exc.problem_mark is not None:
        mark = exc.problem_mark
        # +1: the mark counts from 0 inside the front matter, which starts on
        # the line after the opening ---.
        where = f"line {mark.line + 2}, column {mark.column + 1}"
        return f"{exc.problem or exc.context or 'syntax error'} ({where})"
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def _build(
    fields: dict[object, object], body: str, skill_file: Path, source: str
) -> Skill:
    problems: list[str] = []
    folder = skill_file.parent.name
    name = _text(fields, "name", problems, required=True)
    description = _text(fields, "description", problems, required=True)
    compatibility = _text(fields, "compatibility", problems)
    problems += _name_problems(name, folder) + _length_problems(
        description, compatibility
    )
    skill = Skill(
        name=name,
        description=description,
        skill_file=skill_file,
        source=source,
        user_invocable=_flag(fields, "user-invocable", problems),
        disable_model_invocation=_flag(fields, "disable-model-invocation", problems),
        license=_text(fields, "license", problems),
        compatibility=compatibility,
        metadata=_metadata(fields, problems),
        instructions=body.strip(),
    )
    if problems:
        raise InvalidSkillError("; ".join(problems), name=name)
    return skill


def _text(
    fields: dict[object, object],
    key: str,
    problems: list[str],
    *,
    required: bool = False,
) -> str:
    value = fields.get(key)
    if value is None or value == "":
        if required:
            problems.append(f"{key} is required")
        return ""
    if not isinstance(value, str):
        problems.append(f"{key} must be a string, got {_yaml_type(value)}")
        return ""
    return value


def _flag(fields: dict[object, object], key: str, problems: list[str]) -> bool:
    value = fields.get(key, False)
    if value is None:
        return False
    if not isinstance(value, bool):
        problems.append(f"{key} must be true or false, got {_yaml_type(value)}")
        return False
    return value


def _metadata(fields: dict[object, object], problems: list[str]) -> dict[str, str]:
    value = fields.get("metadata")
    if value is None:
        return {}
    scalars = (str, int, float, bool)
    if not isinstance(value, dict) or not all(
        isinstance(k, scalars) and isinstance(v, scalars) for k, v in value.items()
    ):
        problems.append("metadata must map keys to plain values (strings or numbers)")
        return {}
    return {str(k): str(v) for k, v in value.items()}


def _name_problems(name: str, folder: str) -> list[str]:
    if not name:
        return []
    problems = []
    if len(name) > MAX_NAME_CHARS:
        problems.append(f"name is longer than {MAX_NAME_CHARS} characters")
    if not _NAME.fullmatch(name):
        problems.append(
            "name must be letters and digits in groups joined by single hyphens"
            " (no leading, trailing or double hyphens)"
        )
    if name != folder:
        problems.append(f"name {name!r} must match its folder name {folder!r}")
    return problems


def _length_problems(description: str, compatibility: str) -> list[str]:
    problems = []
    if len(description) > MAX_DESCRIPTION_CHARS:
        problems.append(
            f"description is longer than {MAX_DESCRIPTION_CHARS} characters"
        )
    if len(compatibility) > MAX_COMPATIBILITY_CHARS:
        problems.append(
            f"compatibility is longer than {MAX_COMPATIBILITY_CHARS} characters"
        )
    return problems


def _yaml_type(value: object) -> str:
    names = {bool: "a boolean", int: "a number", float: "a number", list: "a list"}
    names[dict] = "a mapping"
    return names.get(type(value), type(value).__name__)
