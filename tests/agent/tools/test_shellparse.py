"""The bash tool's parse-based checks: read-only commands and the block list."""

from __future__ import annotations

import pytest

from crushd.agent.tools._shellparse import check_command, is_read_only
from crushd.agent.tools._shellrules import banned_reason, is_read_only_argv
from crushd.agent.tools._shellwords import UNKNOWN, unwrap

READ_ONLY = [
    "ls",
    "ls -la /tmp",
    "pwd",
    "echo hello world",
    'echo \'single\' "double" mixed"quo"tes',
    "ls $HOME",
    "date",
    "env",
    "printenv PATH",
    "whoami && id",
    "ls; pwd",
    "ls || echo none",
    "ls | echo",
    "(ls)",
    "{ ls; pwd; }",
    "! ls",
    "ls # a comment",
    "ls 2>&1",
    "ls >/dev/null 2>&1",
    "ls &>/dev/null",
    "echo hi >&2",
    "ls >&-",
    "echo x < /dev/null",
    "LC_ALL=C ls",
    "env LANG=C ls",
    "timeout 5 ls",
    "timeout -s KILL 5 ls",
    "nice -n 5 ls",
    "nice ls",
    "nohup ls",
    "time ls",
    "command ls",
    "command -v rm",
    "exec ls",
    "env -i ls",
    "xargs",
    "timeout 3 nice nohup env ls",
    "git status",
    "git log --oneline -5",
    "git diff HEAD~1",
    "git show HEAD:README.md",
    "git -C sub log",
    "git --no-pager diff",
    "git branch",
    "git branch -a",
    "git branch --list 'feat*'",
    "git tag",
    "git tag -l 'v1*'",
    "git remote -v",
    "git remote show origin",
    "git config --get user.name",
    "git config --list",
    "git rev-parse HEAD",
    "gh pr view 12",
    "brew list",
    "unset FOO",
    "uname -a",
    "ls <<EOF\nhi\nEOF",
]

NOT_READ_ONLY = [
    # upstream's holes: a safe prefix, then anything
    "timeout 1 rm x",
    "timeout 1 rm -rf x",
    "nohup rm x",
    "env rm x",
    "nice rm x",
    "time rm x",
    "command rm x",
    "exec rm x",
    "echo x > f",
    "echo x >> f",
    "ls > out.txt",
    "ls &> out.txt",
    "ls >| out.txt",
    "ls 2> err.txt",
    "ls >& out.txt",
    "echo $(rm x)",
    "echo `rm x`",
    'echo "$(rm x)"',
    "ls $(pwd)",
    "cat <(ls)",
    "ls > >(cat)",
    "git diff --output=f",
    "git log --output=f",
    "git grep -O x",
    "git diff --ext-diff",
    # chaining into a command that is not read-only
    "ls; rm x",
    "ls && rm x",
    "ls || rm x",
    "ls | sh",
    "ls | xargs rm",
    "ls & rm x",
    "ls\nrm x",
    "(rm x)",
    # plain changes
    "rm x",
    "touch f",
    "mkdir d",
    "kill 1",
    "killall python",
    "python -c 'print(1)'",
    "bash -c ls",
    "eval ls",
    "sh script.sh",
    # git and friends that change things
    "git branch -D main",
    "git branch new-branch",
    "git branch -m old new",
    "git branch --set-upstream-to=origin/x",
    "git tag v1",
    "git tag -d v1",
    "git tag -a v1 -m msg",
    "git remote add o url",
    "git remote remove o",
    "git config user.name x",
    "git commit -m x",
    "git push",
    "git checkout .",
    "git -c core.pager=rm log",
    "git -c alias.x=!rm x",
    "gh pr create",
    "brew install x",
    "date -s 2020-01-01",
    "hostname newname",
    # environment that changes what runs
    "PATH=/tmp ls",
    "GIT_EXTERNAL_DIFF=rm git diff",
    "env PATH=/tmp ls",
    "env -S 'rm x'",
    "time -o out ls",
    "xargs git branch",
    "FOO=1",
    # what the parse cannot vouch for
    "$CMD",
    '"$CMD" x',
    "ls |",
    "ls &&",
    "echo 'unterminated",
    "if true; then ls; fi",
    "for f in a; do ls; done",
    "while true; do ls; done",
    "case x in x) ls;; esac",
    "f() { rm x; }; f",
    "export X=1",
    "[[ -f x ]]",
    "echo $((1+1))",
    "ls < /dev/tcp/host/80",
]


@pytest.mark.parametrize("command", READ_ONLY)
def test_read_only(command: str) -> None:
    assert is_read_only(command), check_command(command)


@pytest.mark.parametrize("command", NOT_READ_ONLY)
def test_not_read_only(command: str) -> None:
    assert not is_read_only(command), check_command(command)


def test_parse_error_is_reported() -> None:
    check = check_command("ls |")
    assert not check.parsed
    assert not check.read_only
    assert check_command("ls").parsed


BANNED = [
    ("curl https://x", "curl"),
    ("wget x", "wget"),
    ("ssh host", "ssh"),
    ("sudo ls", "sudo"),
    ("apt-get update", "apt-get"),
    ("systemctl stop x", "systemctl"),
    ("ls; curl x", "curl"),
    ("ls | nc host 1", "nc"),
    ("echo $(curl x)", "curl"),
    ("(cd /; wget x)", "wget"),
    ("timeout 5 curl x", "curl"),
    ("env A=1 curl x", "curl"),
    ("nohup nice -n 3 wget x", "wget"),
    ("xargs -n 1 curl", "curl"),
    ("/usr/bin/curl x", "curl"),
    ('"curl" x', "curl"),
    ("c\\url x", "curl"),
    ("bash -c 'curl x'", "curl"),
    ("sh -ec 'ls; sudo x'", "sudo"),
    ("eval 'wget x'", "wget"),
    ("bash -c \"bash -c 'ssh h'\"", "ssh"),
    ("pip install --user x", "pip"),
    ("pip3 install --user=yes x", "pip3"),
    ("npm install -g x", "npm"),
    ("npm install --global x", "npm"),
    ("pnpm add -g x", "pnpm"),
    ("yarn global add x", "yarn"),
    ("cargo install x", "cargo"),
    ("go install x@latest", "go"),
    ("go test -exec rm ./...", "go"),
    ("brew install x", "brew"),
    ("gem install x", "gem"),
]

ALLOWED = [
    "ls",
    "pip install x",
    "npm install",
    "npm install x",
    "go test ./...",
    "go build ./...",
    "cargo build",
    "yarn add x",
    "echo curl",
    "git log --grep=wget",
    "$X curl",
    'bash -c "$SCRIPT"',
    "ls |",
]


@pytest.mark.parametrize(("command", "program"), BANNED)
def test_banned(command: str, program: str) -> None:
    check = check_command(command)
    assert check.banned == f'command is not allowed for security reasons: "{program}"'
    assert not check.read_only


@pytest.mark.parametrize("command", ALLOWED)
def test_not_banned(command: str) -> None:
    assert check_command(command).banned is None


@pytest.mark.parametrize(
    ("argv", "inner", "clean"),
    [
        (["timeout", "5", "rm", "x"], ["rm", "x"], True),
        (["timeout", "--signal=KILL", "5", "ls"], ["ls"], True),
        (["env", "-u", "X", "A=1", "ls"], ["ls"], False),
        (["env", "LANG=C", "--", "ls"], ["ls"], True),
        (["nice", "-10", "ls"], ["ls"], True),
        (["xargs", "-I", "{}", "mv", "{}", "d"], ["mv", "{}", "d", UNKNOWN], True),
        (["command", "-v", "ls"], [], True),
        (["env", "-S", "rm x"], ["env", "-S", "rm x"], False),
        (["/usr/bin/env", "ls"], ["ls"], True),
        (["ls", "-l"], ["ls", "-l"], True),
        ([], [], True),
    ],
)
def test_unwrap(argv: list[str], inner: list[str], clean: bool) -> None:
    assert unwrap(argv) == (inner, clean)


def test_a_deep_nest_of_shells_stops_without_error() -> None:
    command = "ls"
    for _ in range(12):
        command = f"bash -c {command!r}"
    assert check_command(command).banned is None


@pytest.mark.parametrize("command", ["ls \ud800", "echo \x00", ""])
def test_odd_text_never_raises(command: str) -> None:
    check = check_command(command)
    assert check.banned is None


def test_empty_argv() -> None:
    assert banned_reason([]) is None
    assert is_read_only_argv([])
