"""Which folders are searched for skills, and in what order."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

from crushd.skills import (
    SkillRoot,
    SkillsEnvironment,
    global_skill_dirs,
    skill_roots,
)
from crushd.trust import find_worktree_root


@pytest.fixture
def home(tmp_path: Path) -> Path:
    path = tmp_path / "home"
    path.mkdir()
    return path


def test_global_dirs_default_to_the_four_home_folders(home: Path) -> None:
    """Without overrides: crush, agents under ~/.config, then ~/.agents, ~/.claude."""
    assert global_skill_dirs(SkillsEnvironment(home)) == [
        home / ".config/crush/skills",
        home / ".config/agents/skills",
        home / ".agents/skills",
        home / ".claude/skills",
    ]


def test_global_dirs_follow_xdg_config_home(home: Path, tmp_path: Path) -> None:
    """An absolute $XDG_CONFIG_HOME replaces ~/.config; ~ folders stay."""
    env = SkillsEnvironment(home, {"XDG_CONFIG_HOME": str(tmp_path / "xdg")})
    dirs = global_skill_dirs(env)
    assert dirs[:2] == [tmp_path / "xdg/crush/skills", tmp_path / "xdg/agents/skills"]
    assert dirs[2:] == [home / ".agents/skills", home / ".claude/skills"]


def test_relative_xdg_config_home_is_ignored(home: Path) -> None:
    """A relative $XDG_CONFIG_HOME is invalid per XDG and ignored."""
    env = SkillsEnvironment(home, {"XDG_CONFIG_HOME": "rel"})
    assert global_skill_dirs(env)[0] == home / ".config/crush/skills"


def test_crush_skills_dir_replaces_every_global_dir(home: Path) -> None:
    """$CRUSH_SKILLS_DIR (with ~ expanded) is the only global folder."""
    env = SkillsEnvironment(home, {"CRUSH_SKILLS_DIR": "~/mine"})
    assert global_skill_dirs(env) == [home / "mine"]


def test_empty_crush_skills_dir_is_unset(home: Path) -> None:
    """An empty $CRUSH_SKILLS_DIR falls back to the defaults."""
    assert (
        len(global_skill_dirs(SkillsEnvironment(home, {"CRUSH_SKILLS_DIR": ""}))) == 4
    )


def test_from_process_reads_home_and_environment(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """from_process takes $HOME and a snapshot of the environment."""
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("CRUSH_SKILLS_DIR", "/x")
    env = SkillsEnvironment.from_process()
    assert env.home == home
    assert env.environ["CRUSH_SKILLS_DIR"] == "/x"


def test_expand_only_touches_a_leading_tilde(home: Path) -> None:
    """``~`` and ``~/x`` expand; ``a/~`` and ``~user`` do not."""
    env = SkillsEnvironment(home)
    assert env.expand("~") == home
    assert env.expand("~/x") == home / "x"
    assert env.expand("a/~") == Path("a/~")
    assert env.expand("~user") == Path("~user")


def test_worktree_root_is_found_by_a_git_dir_or_file(tmp_path: Path) -> None:
    """The nearest folder holding .git (directory or worktree file) is the root."""
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    deep = repo / "a" / "b"
    deep.mkdir(parents=True)
    assert find_worktree_root(deep) == repo
    assert find_worktree_root(repo) == repo
    linked = repo / "a"
    (linked / ".git").write_text("gitdir: ../.git/worktrees/a\n")
    assert find_worktree_root(deep) == linked


def test_no_worktree_root_outside_a_repository(tmp_path: Path) -> None:
    """A folder with no .git anywhere above has no worktree root."""
    assert find_worktree_root(tmp_path) is None


def test_roots_order_project_worktree_extra_global(home: Path, tmp_path: Path) -> None:
    """Workspace folders first, then the worktree root's, extras, then globals."""
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    ws = repo / "sub"
    ws.mkdir()
    env = SkillsEnvironment(home, {"CRUSH_SKILLS_DIR": str(tmp_path / "g")})
    roots = skill_roots(ws, extra_paths=["/opt/skills"], env=env)
    project = [".agents/skills", ".crush/skills", ".claude/skills", ".cursor/skills"]
    assert roots == [
        *(SkillRoot(ws / p, "project") for p in project),
        *(SkillRoot(repo / p, "project") for p in project),
        SkillRoot(Path("/opt/skills"), "user"),
        SkillRoot(tmp_path / "g", "user"),
    ]


def test_worktree_root_equal_to_the_path_is_not_repeated(
    home: Path, tmp_path: Path
) -> None:
    """A workspace at the repository root gets its project folders once."""
    (tmp_path / ".git").mkdir()
    env = SkillsEnvironment(home, {"CRUSH_SKILLS_DIR": str(home / "g")})
    roots = skill_roots(tmp_path, env=env)
    assert len(roots) == 5


def test_extra_paths_resolve_against_the_workspace(home: Path, tmp_path: Path) -> None:
    """Relative extras are under the workspace (project); ``..`` leaves it (user)."""
    ws = tmp_path / "ws"
    env = SkillsEnvironment(home, {"CRUSH_SKILLS_DIR": str(home / "g")})
    roots = skill_roots(ws, extra_paths=["tools/skills", "../common", "~/s"], env=env)
    assert roots[4:7] == [
        SkillRoot(ws / "tools/skills", "project"),
        SkillRoot(tmp_path / "common", "user"),
        SkillRoot(home / "s", "user"),
    ]


def test_a_folder_reached_twice_is_kept_at_its_first_place(
    home: Path, tmp_path: Path
) -> None:
    """$CRUSH_SKILLS_DIR naming a project folder, or a symlink to it, is dropped."""
    ws = tmp_path / "ws"
    (ws / ".agents/skills").mkdir(parents=True)
    (tmp_path / "link").symlink_to(ws / ".agents/skills")
    env = SkillsEnvironment(home, {"CRUSH_SKILLS_DIR": str(ws / ".agents/skills")})
    roots = skill_roots(ws, extra_paths=[str(tmp_path / "link")], env=env)
    assert [r.path for r in roots].count(ws / ".agents/skills") == 1
    assert roots[0] == SkillRoot(ws / ".agents/skills", "project")
    assert len(roots) == 4


def test_untrusted_project_skills_folder_is_skipped(
    home: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A skills folder, or a folder above it, that others may write is left out."""
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    ws = repo / "sub"
    (ws / ".claude" / "skills").mkdir(parents=True)
    (ws / ".claude").chmod(0o777)
    (repo / ".agents" / "skills").mkdir(parents=True)
    (repo / ".agents" / "skills").chmod(0o775)
    env = SkillsEnvironment(home, {"CRUSH_SKILLS_DIR": str(tmp_path / "g")})
    with caplog.at_level(logging.WARNING, logger="crushd.skills"):
        paths = [root.path for root in skill_roots(ws, env=env)]
    assert ws / ".claude/skills" not in paths
    assert repo / ".agents/skills" not in paths
    assert len(paths) == 7
    assert f"skipping untrusted {ws / '.claude'}: writable by group" in caplog.text
    assert f"skipping untrusted {repo / '.agents/skills'}: writable" in caplog.text


def test_untrusted_global_and_extra_skills_folders_are_skipped(
    home: Path, tmp_path: Path
) -> None:
    """Folders outside the project must be trusted too."""
    for name in ("g", "extra"):
        (tmp_path / name).mkdir()
        (tmp_path / name).chmod(0o777)
    env = SkillsEnvironment(home, {"CRUSH_SKILLS_DIR": str(tmp_path / "g")})
    roots = skill_roots(tmp_path / "ws", extra_paths=[str(tmp_path / "extra")], env=env)
    assert [root.source for root in roots] == ["project"] * 4


@pytest.mark.skipif(os.geteuid() != 0, reason="chowning to another uid needs root")
def test_project_skills_of_another_uid_are_skipped(home: Path, tmp_path: Path) -> None:
    """Another uid's skills folder, or workspace folder, gives no project roots."""
    ws = tmp_path / "ws"
    (ws / ".crush" / "skills").mkdir(parents=True)
    os.chown(ws / ".crush" / "skills", 65534, 65534)
    env = SkillsEnvironment(home, {"CRUSH_SKILLS_DIR": str(home / "g")})
    assert ws / ".crush/skills" not in [r.path for r in skill_roots(ws, env=env)]
    os.chown(ws, 65534, 65534)
    assert [r.source for r in skill_roots(ws, env=env)] == ["user"]
