"""Discovery over folders: states, precedence, the catalog's list and read."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest

from crushd.errors import InternalError, SkillNotFound
from crushd.proto import ReadSkillResponse, SkillInfo, SkillResult, SkillState
from crushd.skills import (
    MAX_SKILL_FILE_BYTES,
    SkillRoot,
    SkillsEnvironment,
    discover_skills,
    scan_skills,
    scan_workspace,
)

from ._fifo import fifo_skill
from ._support import skill_text, write_skill


@pytest.fixture
def env(tmp_path: Path) -> SkillsEnvironment:
    home = tmp_path / "home"
    home.mkdir()
    return SkillsEnvironment(home, {})


def test_discover_lists_valid_skills_sorted_by_name(tmp_path: Path) -> None:
    """Valid skills become state 0 and catalog entries, listed by name."""
    root = tmp_path / "skills"
    b = write_skill(root, "b-skill")
    a = write_skill(root, "A-skill")
    catalog = discover_skills([SkillRoot(root, "user")])
    assert [s.name for s in catalog.skills] == ["A-skill", "b-skill"]
    assert catalog.states == (
        SkillState(name="A-skill", path=str(a)),
        SkillState(name="b-skill", path=str(b)),
    )


def test_infos_are_the_wire_entries(tmp_path: Path) -> None:
    """Each visible skill is a SkillInfo: id = SKILL.md path, label = source:folder."""
    path = write_skill(
        tmp_path, "x", skill_text("x", "X it.", "user-invocable: true\n")
    )
    catalog = discover_skills([SkillRoot(tmp_path, "project")])
    assert catalog.infos() == [
        SkillInfo(
            id=str(path),
            name="x",
            description="X it.",
            label="project:x",
            source="project",
            user_invocable=True,
        )
    ]


def test_bad_skills_are_states_not_failures(tmp_path: Path) -> None:
    """Bad YAML, a missing field and a name/folder mismatch are state 1 entries."""
    bad_yaml = write_skill(tmp_path, "a", "---\nname: [\n---\n")
    missing = write_skill(tmp_path, "b", "---\nname: b\n---\n")
    mismatch = write_skill(tmp_path, "c", skill_text("other"))
    good = write_skill(tmp_path, "d")
    catalog = discover_skills([SkillRoot(tmp_path, "user")])
    assert [s.name for s in catalog.skills] == ["d"]
    states = {s.path: s for s in catalog.states}
    assert states[str(bad_yaml)].state == 1
    assert states[str(bad_yaml)].error.startswith("invalid YAML front matter")
    assert states[str(bad_yaml)].name == ""
    assert states[str(missing)] == SkillState(
        name="b", path=str(missing), state=1, error="description is required"
    )
    assert states[str(mismatch)].name == "other"
    assert "must match its folder" in states[str(mismatch)].error
    assert states[str(good)].state == 0


def test_folders_without_skill_md_and_stray_files_are_ignored(tmp_path: Path) -> None:
    """A folder with no SKILL.md, a plain file, a lowercase skill.md: no state."""
    (tmp_path / "empty").mkdir()
    (tmp_path / "notes.md").write_text("x")
    (tmp_path / "lower").mkdir()
    (tmp_path / "lower" / "skill.md").write_text(skill_text("lower"))
    (tmp_path / "dangling").mkdir()
    (tmp_path / "dangling" / "SKILL.md").symlink_to(tmp_path / "nowhere")
    assert discover_skills([SkillRoot(tmp_path, "user")]).states == ()


def test_missing_and_non_folder_roots_are_skipped(tmp_path: Path) -> None:
    """A root that does not exist, or is a file, yields nothing."""
    (tmp_path / "file").write_text("x")
    roots = [SkillRoot(tmp_path / "nope", "user"), SkillRoot(tmp_path / "file", "user")]
    assert discover_skills(roots) == discover_skills([])


def test_unlistable_root_is_a_state(tmp_path: Path) -> None:
    """A skills folder that cannot be listed (a symlink loop) is a state."""
    root = tmp_path / "loop"
    root.symlink_to(root)
    (state,) = discover_skills([SkillRoot(root, "user")]).states
    assert (state.name, state.path, state.state) == ("", str(root), 1)
    assert state.error.startswith("cannot list skills folder: ")


def test_skill_md_that_is_a_folder_is_a_state(tmp_path: Path) -> None:
    """A SKILL.md that cannot be read as a file is a state 1 entry."""
    (tmp_path / "a" / "SKILL.md").mkdir(parents=True)
    (state,) = discover_skills([SkillRoot(tmp_path, "user")]).states
    assert state.state == 1
    assert state.error == "SKILL.md is a folder, not a regular file"


def test_fifo_skill_md_is_listed_as_an_error(tmp_path: Path) -> None:
    """A FIFO SKILL.md is a state 1 entry; the other skills still load."""
    write_skill(tmp_path, "good")
    with fifo_skill(tmp_path, "stuck") as fifo:
        catalog = discover_skills([SkillRoot(tmp_path, "project")])
    assert [s.name for s in catalog.skills] == ["good"]
    bad = [s for s in catalog.states if s.state == 1]
    assert [(s.path, s.error) for s in bad] == [
        (str(fifo), "SKILL.md is a FIFO, not a regular file")
    ]


def test_symlinked_skill_folder_keeps_working(tmp_path: Path) -> None:
    """A skill folder that is a symlink (a common install) is discovered."""
    write_skill(tmp_path / "elsewhere", "linked")
    (tmp_path / "root").mkdir()
    (tmp_path / "root" / "linked").symlink_to(tmp_path / "elsewhere" / "linked")
    catalog = discover_skills([SkillRoot(tmp_path / "root", "user")])
    assert [s.name for s in catalog.skills] == ["linked"]


def test_read_of_a_skill_replaced_by_a_fifo_is_an_error(tmp_path: Path) -> None:
    """POST /skills/read of a file swapped for a FIFO since the scan: 500, no hang."""
    path = write_skill(tmp_path, "a")
    catalog = discover_skills([SkillRoot(tmp_path, "user")])
    path.unlink()
    path.parent.rmdir()
    with fifo_skill(tmp_path, "a"), pytest.raises(InternalError) as caught:
        catalog.read(str(path))
    assert caught.value.message == (
        f"failed to read skill {path}: SKILL.md is a FIFO, not a regular file"
    )


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_unreadable_skill_file_is_a_state(tmp_path: Path) -> None:
    """A SKILL.md without read permission is a state 1 entry."""
    path = write_skill(tmp_path, "a")
    path.chmod(0)
    try:
        (state,) = discover_skills([SkillRoot(tmp_path, "user")]).states
    finally:
        path.chmod(0o644)
    assert state.state == 1
    assert state.error.startswith("cannot read SKILL.md: ")


def test_first_root_wins_a_name_and_shadows_later_ones(tmp_path: Path) -> None:
    """The same name in two roots: the higher-precedence one is visible, alone."""
    near = write_skill(tmp_path / "project", "same", skill_text("same", "near"))
    write_skill(tmp_path / "global", "same", skill_text("same", "far"))
    catalog = discover_skills(
        [
            SkillRoot(tmp_path / "project", "project"),
            SkillRoot(tmp_path / "global", "user"),
        ]
    )
    (skill,) = catalog.skills
    assert (skill.description, skill.source) == ("near", "project")
    assert catalog.states == (SkillState(name="same", path=str(near)),)


def test_a_bad_skill_does_not_shadow_a_good_one(tmp_path: Path) -> None:
    """An invalid nearer copy is reported; the valid farther one stays visible."""
    bad = write_skill(tmp_path / "p", "same", "---\nname: same\n---\n")
    good = write_skill(tmp_path / "g", "same")
    catalog = discover_skills(
        [SkillRoot(tmp_path / "p", "project"), SkillRoot(tmp_path / "g", "user")]
    )
    assert [s.id for s in catalog.skills] == [str(good)]
    assert [(s.path, s.state) for s in catalog.states] == [
        (str(bad), 1),
        (str(good), 0),
    ]


def test_scan_workspace_prefers_project_over_global(
    tmp_path: Path, env: SkillsEnvironment
) -> None:
    """A project skill overrides a global one of the same name (what users expect)."""
    ws = tmp_path / "ws"
    write_skill(env.home / ".claude/skills", "tool", skill_text("tool", "global"))
    write_skill(env.home / ".claude/skills", "only-global")
    write_skill(ws / ".crush/skills", "tool", skill_text("tool", "project"))
    catalog = scan_workspace(ws, env=env)
    described = {s.name: (s.description, s.source) for s in catalog.skills}
    assert described == {
        "tool": ("project", "project"),
        "only-global": ("Does a thing.", "user"),
    }


def test_scan_workspace_order_within_project_dirs(
    tmp_path: Path, env: SkillsEnvironment
) -> None:
    """Among project folders .agents beats .crush beats .claude beats .cursor."""
    ws = tmp_path / "ws"
    for index, sub in enumerate(
        [".cursor/skills", ".claude/skills", ".crush/skills", ".agents/skills"]
    ):
        write_skill(ws / sub, "s", skill_text("s", f"from {sub}"))
        (skill,) = scan_workspace(ws, env=env).skills
        assert skill.description == f"from {sub}", index


def test_scan_workspace_reads_the_worktree_root(
    tmp_path: Path, env: SkillsEnvironment
) -> None:
    """Skills at the git worktree root are found from a subfolder workspace,
    and the subfolder's own copy wins."""
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    ws = repo / "pkg"
    write_skill(repo / ".agents/skills", "root-skill")
    write_skill(repo / ".agents/skills", "both", skill_text("both", "root"))
    write_skill(ws / ".agents/skills", "both", skill_text("both", "sub"))
    catalog = scan_workspace(ws, env=env)
    described = {s.name: s.description for s in catalog.skills}
    assert described == {"root-skill": "Does a thing.", "both": "sub"}


def test_scan_workspace_extra_paths_beat_globals(
    tmp_path: Path, env: SkillsEnvironment
) -> None:
    """options.skills_paths folders rank above the global folders."""
    write_skill(tmp_path / "extra", "s", skill_text("s", "extra"))
    write_skill(env.home / ".agents/skills", "s", skill_text("s", "global"))
    catalog = scan_workspace(
        tmp_path / "ws", extra_paths=[str(tmp_path / "extra")], env=env
    )
    assert [s.description for s in catalog.skills] == ["extra"]


def test_crush_skills_dir_hides_the_home_folders(
    tmp_path: Path, env: SkillsEnvironment
) -> None:
    """With $CRUSH_SKILLS_DIR set, ~/.claude/skills is not read at all."""
    write_skill(env.home / ".claude/skills", "home-skill")
    write_skill(tmp_path / "override", "override-skill")
    overridden = SkillsEnvironment(
        env.home, {"CRUSH_SKILLS_DIR": str(tmp_path / "override")}
    )
    assert [s.name for s in scan_workspace(tmp_path / "ws", env=env).skills] == [
        "home-skill"
    ]
    assert [s.name for s in scan_workspace(tmp_path / "ws", env=overridden).skills] == [
        "override-skill"
    ]


async def test_scan_skills_runs_in_a_thread(
    tmp_path: Path, env: SkillsEnvironment
) -> None:
    """The async scan gives the same catalog as the blocking one."""
    write_skill(tmp_path / "ws/.agents/skills", "a")
    assert await scan_skills(tmp_path / "ws", env=env) == scan_workspace(
        tmp_path / "ws", env=env
    )


def test_read_returns_base64_of_the_file_now(tmp_path: Path) -> None:
    """read() answers the file's current bytes in base64 and the catalogued result."""
    path = write_skill(tmp_path, "a")
    catalog = discover_skills([SkillRoot(tmp_path, "project")])
    path.write_bytes(path.read_bytes() + "more ✓\n".encode())
    assert catalog.read(str(path)) == ReadSkillResponse(
        content=base64.b64encode(path.read_bytes()).decode(),
        result=SkillResult(name="a", description="Does a thing.", source="project"),
    )


def test_read_unknown_id_is_skill_not_found(tmp_path: Path) -> None:
    """An id that is no visible skill, even an existing file, is SkillNotFound (404)."""
    bad = write_skill(tmp_path, "b", "---\nname: b\n---\n")
    catalog = discover_skills([SkillRoot(tmp_path, "user")])
    with pytest.raises(SkillNotFound) as caught:
        catalog.read(str(bad))
    assert (caught.value.status, caught.value.message) == (
        404,
        f"skill not found: {bad}",
    )
    with pytest.raises(SkillNotFound):
        catalog.find("/etc/passwd")


def test_read_of_a_vanished_file_is_an_internal_error(tmp_path: Path) -> None:
    """A skill deleted after the scan cannot be read: a 500 naming the skill."""
    path = write_skill(tmp_path, "a")
    catalog = discover_skills([SkillRoot(tmp_path, "user")])
    path.unlink()
    with pytest.raises(InternalError, match=r"^failed to read skill .*a/SKILL\.md: "):
        catalog.read(str(path))


def test_read_of_a_file_grown_too_large_is_refused(tmp_path: Path) -> None:
    """A skill that grew past 256 KiB since the scan is not sent."""
    path = write_skill(tmp_path, "a")
    catalog = discover_skills([SkillRoot(tmp_path, "user")])
    path.write_bytes(b"x" * (MAX_SKILL_FILE_BYTES + 1))
    with pytest.raises(InternalError, match="larger than"):
        catalog.read(str(path))


def test_find_looks_past_other_skills(tmp_path: Path) -> None:
    """find() returns the skill with the id even when it is not the first listed."""
    write_skill(tmp_path, "a")
    second = write_skill(tmp_path, "b")
    catalog = discover_skills([SkillRoot(tmp_path, "user")])
    assert catalog.find(str(second)).name == "b"


def test_without_drops_named_skills_and_keeps_every_state(tmp_path: Path) -> None:
    """without(names) leaves those skills out of the catalog, not out of states."""
    root = tmp_path / "skills"
    write_skill(root, "a")
    write_skill(root, "b")
    catalog = discover_skills([SkillRoot(root, "user")])
    trimmed = catalog.without({"b", "not-there"})
    assert [s.name for s in trimmed.skills] == ["a"]
    assert trimmed.states == catalog.states
    assert catalog.without(()) is catalog
