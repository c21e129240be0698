"""SKILL.md parsing and every validation rule of the agentskills.io spec."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from crushd.skills import (
    MAX_COMPATIBILITY_CHARS,
    MAX_DESCRIPTION_CHARS,
    MAX_NAME_CHARS,
    MAX_SKILL_FILE_BYTES,
    InvalidSkillError,
    read_skill_file,
    split_front_matter,
)

from ._fifo import fifo_skill
from ._support import skill_text, write_skill


def problem(tmp_path: Path, folder: str, text: str) -> InvalidSkillError:
    path = write_skill(tmp_path, folder, text)
    with pytest.raises(InvalidSkillError) as caught:
        read_skill_file(path, "user")
    return caught.value


def test_read_skill_file_reads_every_field(tmp_path: Path) -> None:
    """A full front matter fills every field; the body is the stripped markdown."""
    extra = (
        "user-invocable: true\n"
        "disable-model-invocation: true\n"
        "license: MIT\n"
        "compatibility: needs git\n"
        "metadata:\n  author: me\n  version: 2\n"
    )
    path = write_skill(tmp_path, "pdf-tools", skill_text("pdf-tools", "PDFs.", extra))
    skill = read_skill_file(path, "project")
    assert (skill.name, skill.description, skill.source) == (
        "pdf-tools",
        "PDFs.",
        "project",
    )
    assert skill.user_invocable
    assert skill.disable_model_invocation
    assert (skill.license, skill.compatibility) == ("MIT", "needs git")
    assert skill.metadata == {"author": "me", "version": "2"}
    assert skill.instructions == "# pdf-tools"
    assert skill.id == str(path)
    assert skill.label == "project:pdf-tools"


def test_read_skill_file_defaults_optional_fields(tmp_path: Path) -> None:
    """Only name and description given: flags false, texts empty, no metadata."""
    skill = read_skill_file(write_skill(tmp_path, "a"), "user")
    assert not skill.user_invocable
    assert not skill.disable_model_invocation
    assert (skill.license, skill.compatibility, dict(skill.metadata)) == ("", "", {})


def test_split_front_matter_accepts_bom_crlf_and_leading_blank_lines() -> None:
    """A BOM, CRLF line ends and blank lines before the fence still parse."""
    text = "\ufeff\r\n\r\n---\r\nname: a\r\n---\r\nbody\r\n"
    assert split_front_matter(text) == ("name: a", "body\n")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("# just markdown\n", "no YAML front matter"),
        ("", "no YAML front matter"),
        ("---\nname: a\ndescription: b\n", "unclosed YAML front matter"),
    ],
)
def test_split_front_matter_rejects_missing_fences(text: str, message: str) -> None:
    """A file without an opening or a closing --- line is refused."""
    with pytest.raises(InvalidSkillError, match=message):
        split_front_matter(text)


def test_bad_yaml_names_the_problem_and_line(tmp_path: Path) -> None:
    """Unparseable YAML is reported with the problem and its line in the file."""
    exc = problem(tmp_path, "a", "---\nname: a\ndescription: [unclosed\n---\n")
    assert exc.message.startswith("invalid YAML front matter: ")
    assert "line " in exc.message


def test_yaml_that_is_not_a_mapping_is_refused(tmp_path: Path) -> None:
    """Front matter that is a list, not a mapping of fields, is refused."""
    exc = problem(tmp_path, "a", "---\n- name\n- a\n---\n")
    assert exc.message == "YAML front matter must be a mapping of fields"


def test_empty_front_matter_is_refused(tmp_path: Path) -> None:
    """An empty front matter (null YAML) is not a mapping."""
    assert "mapping" in problem(tmp_path, "a", "---\n---\nbody\n").message


def test_yaml_tags_that_build_objects_are_refused(tmp_path: Path) -> None:
    """safe_load refuses Python object tags instead of constructing them."""
    text = "---\nname: !!python/object/apply:os.getcwd []\ndescription: x\n---\n"
    assert problem(tmp_path, "a", text).message.startswith("invalid YAML")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("---\ndescription: d\n---\n", "name is required"),
        ("---\nname: ''\ndescription: d\n---\n", "name is required"),
        ("---\nname: a\n---\n", "description is required"),
        ("---\nname: a\ndescription:\n---\n", "description is required"),
        ("---\nname: 12\ndescription: d\n---\n", "name must be a string, got a number"),
        ("---\nname: a\ndescription: [x]\n---\n", "description must be a string"),
        ("---\nname: a\ndescription: d\nlicense: {a: 1}\n---\n", "license must be"),
        (
            "---\nname: a\ndescription: d\ncompatibility: 5\n---\n",
            "compatibility must be a string",
        ),
        (
            "---\nname: a\ndescription: d\nuser-invocable: yes please\n---\n",
            "user-invocable must be true or false",
        ),
        (
            "---\nname: a\ndescription: d\ndisable-model-invocation: 1\n---\n",
            "disable-model-invocation must be true or false, got a number",
        ),
        ("---\nname: a\ndescription: d\nmetadata: [1]\n---\n", "metadata must map"),
        (
            "---\nname: a\ndescription: d\nmetadata: {a: {b: c}}\n---\n",
            "metadata must map",
        ),
    ],
)
def test_field_rules(tmp_path: Path, text: str, message: str) -> None:
    """Each missing or wrongly typed field is reported by name."""
    assert message in problem(tmp_path, "a", text).message


def test_null_flags_mean_false(tmp_path: Path) -> None:
    """``user-invocable:`` with no value is false, not an error."""
    text = skill_text("a", extra="user-invocable:\n")
    assert not read_skill_file(write_skill(tmp_path, "a", text), "user").user_invocable


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    """Several broken rules are joined into one message."""
    exc = problem(tmp_path, "a", "---\nuser-invocable: 3\n---\n")
    assert exc.message == (
        "name is required; description is required;"
        " user-invocable must be true or false, got a number"
    )
    assert exc.name == ""


@pytest.mark.parametrize(
    "name",
    ["a", "A1", "pdf-tools", "x-1-y", "a" * MAX_NAME_CHARS],
)
def test_valid_names(tmp_path: Path, name: str) -> None:
    """Letters and digits in single-hyphen groups, up to 64 characters, pass."""
    assert read_skill_file(write_skill(tmp_path, name), "user").name == name


@pytest.mark.parametrize("name", ["-a", "a-", "a--b", "a_b", "a b", "ä", "a.b", "a."])
def test_invalid_name_patterns(tmp_path: Path, name: str) -> None:
    """Leading, trailing or double hyphens and other characters are refused."""
    exc = problem(tmp_path, name, skill_text(name))
    assert "name must be letters and digits" in exc.message
    assert exc.name == name


def test_name_of_65_characters_is_refused(tmp_path: Path) -> None:
    """A 65-character name is one too long."""
    name = "a" * (MAX_NAME_CHARS + 1)
    assert problem(tmp_path, name, skill_text(name)).message == (
        "name is longer than 64 characters"
    )


def test_name_must_match_its_folder(tmp_path: Path) -> None:
    """A skill in folder ``b`` named ``a`` is refused; the name is still known."""
    exc = problem(tmp_path, "b", skill_text("a"))
    assert exc.message == "name 'a' must match its folder name 'b'"
    assert exc.name == "a"


def test_name_match_is_case_sensitive(tmp_path: Path) -> None:
    """``My-Skill`` in folder ``my-skill`` does not match."""
    assert (
        "must match its folder"
        in problem(tmp_path, "my-skill", skill_text("My-Skill")).message
    )


def fields_text(description: str, compatibility: str) -> str:
    return (
        f"---\nname: a\ndescription: {description}\n"
        f"compatibility: {compatibility}\n---\n"
    )


@pytest.mark.parametrize(
    ("field", "limit"),
    [
        ("description", MAX_DESCRIPTION_CHARS),
        ("compatibility", MAX_COMPATIBILITY_CHARS),
    ],
)
def test_length_limits_are_inclusive(tmp_path: Path, field: str, limit: int) -> None:
    """Exactly at the limit passes; one character more is refused."""
    values = {"description": "d", "compatibility": "c"}
    values[field] = "é" * limit  # counted in characters, not bytes
    path = write_skill(tmp_path, "a", fields_text(**values))
    assert getattr(read_skill_file(path, "user"), field) == values[field]
    values[field] += "é"
    assert problem(tmp_path, "a", fields_text(**values)).message == (
        f"{field} is longer than {limit} characters"
    )


def test_unreadable_file_is_invalid(tmp_path: Path) -> None:
    """A SKILL.md that is a folder cannot be read; that is a skill error."""
    (tmp_path / "a" / "SKILL.md").mkdir(parents=True)
    with pytest.raises(InvalidSkillError, match=r"^SKILL\.md is a folder, not a"):
        read_skill_file(tmp_path / "a" / "SKILL.md", "user")


def test_missing_file_is_invalid(tmp_path: Path) -> None:
    """A SKILL.md that does not exist (a dangling link) cannot be read."""
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "SKILL.md").symlink_to(tmp_path / "gone")
    with pytest.raises(InvalidSkillError, match=r"^cannot read SKILL\.md: "):
        read_skill_file(tmp_path / "a" / "SKILL.md", "user")


def test_fifo_skill_md_is_a_skill_error_not_a_hang(tmp_path: Path) -> None:
    """A FIFO SKILL.md is refused at once; before, the read waited for a writer."""
    with (
        fifo_skill(tmp_path, "a") as path,
        pytest.raises(InvalidSkillError) as caught,
    ):
        read_skill_file(path, "project")
    assert caught.value.message == "SKILL.md is a FIFO, not a regular file"


def test_device_skill_md_is_a_skill_error(tmp_path: Path) -> None:
    """A SKILL.md linked to a device is refused without opening the device."""
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "SKILL.md").symlink_to("/dev/null")
    with pytest.raises(InvalidSkillError) as caught:
        read_skill_file(tmp_path / "a" / "SKILL.md", "project")
    assert caught.value.message == "SKILL.md is a device, not a regular file"


def test_skill_md_over_256_kib_is_a_skill_error(tmp_path: Path) -> None:
    """The limit is 256 KiB (it was 1 MiB): one byte more is refused unread."""
    assert MAX_SKILL_FILE_BYTES == 256 * 1024
    head = skill_text("a")
    at_limit = head + "x" * (MAX_SKILL_FILE_BYTES - len(head))
    assert read_skill_file(write_skill(tmp_path, "a", at_limit), "user").name == "a"
    message = problem(tmp_path, "a", at_limit + "x").message
    assert message == "SKILL.md is larger than 262144 bytes"


def test_symlinked_skill_md_is_followed_to_a_regular_file(tmp_path: Path) -> None:
    """A SKILL.md linked to a regular file elsewhere still works (dotfile managers)."""
    real = tmp_path / "dotfiles" / "a.md"
    real.parent.mkdir()
    real.write_text(skill_text("a"))
    (tmp_path / "skills" / "a").mkdir(parents=True)
    link = tmp_path / "skills" / "a" / "SKILL.md"
    link.symlink_to(real)
    skill = read_skill_file(link, "user")
    assert (skill.name, skill.skill_file) == ("a", link)


def test_deeply_nested_yaml_is_a_skill_error(tmp_path: Path) -> None:
    """YAML nested deeper than the parser can recurse is a skill error, not a crash."""
    text = "---\nname: a\ndescription: " + "[" * 1000 + "]" * 1000 + "\n---\n"
    message = problem(tmp_path, "a", text).message
    assert message == "invalid YAML front matter: nested too deeply"


def test_oversized_file_is_refused(tmp_path: Path) -> None:
    """A SKILL.md over the limit is refused without being parsed."""
    text = skill_text("a") + "x" * MAX_SKILL_FILE_BYTES
    assert "larger than" in problem(tmp_path, "a", text).message


def test_non_utf8_file_is_refused(tmp_path: Path) -> None:
    """Bytes that are not UTF-8 are reported as such."""
    path = write_skill(tmp_path, "a")
    path.write_bytes(b"---\nname: a\ndescription: \xff\n---\n")
    with pytest.raises(InvalidSkillError, match="not UTF-8"):
        read_skill_file(path, "user")


def test_yaml_problem_without_a_position_is_its_text() -> None:
    """A YAML error that carries no position is reported by its text alone."""
    from crushd.skills._parse import _yaml_problem

    assert _yaml_problem(yaml.YAMLError("boom")) == "boom"
    assert _yaml_problem(yaml.YAMLError()) == "YAMLError"
