"""The bash tool's word lists: banned commands, argument rules, read-only commands.

Each rule looks at one simple command's argument vector (``argv[0]`` is the
program's base name, wrappers such as ``timeout 5`` already removed by
``_shellparse``). Source: Crush ``internal/agent/tools/bash.go``
(``bannedCommands``, ``blockFuncs``) and ``tools/safe.go`` (``safeCommands``);
docs/agent.md 2.3 and 1.17 for what crushd tightens.
"""

from __future__ import annotations

from collections.abc import Sequence

from ._gitrules import is_read_only_git

#: Programs the bash tool never runs (upstream's list, in its groups).
BANNED_COMMANDS = frozenset({
    # network and downloads
    "alias", "aria2c", "axel", "chrome", "curl", "curlie", "firefox",
    "http-prompt", "httpie", "links", "lynx", "nc", "safari", "scp", "ssh",
    "telnet", "w3m", "wget", "xh",
    # becoming someone else
    "doas", "su", "sudo",
    # system package managers
    "apk", "apt", "apt-cache", "apt-get", "dnf", "dpkg", "emerge",
    "home-manager", "makepkg", "opkg", "pacman", "paru", "pkg", "pkg_add",
    "pkg_delete", "portage", "rpm", "yay", "yum", "zypper",
    # changing the system
    "at", "batch", "chkconfig", "crontab", "fdisk", "mkfs", "mount", "parted",
    "service", "systemctl", "umount",
    # network configuration
    "firewall-cmd", "ifconfig", "ip", "iptables", "netstat", "pfctl", "route",
    "ufw",
})  # fmt: skip

#: (program, leading sub-commands, flags that must all be present): a command
#: matching one of these is refused (upstream's ``ArgumentsBlocker`` rules).
ARGUMENT_RULES: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...] = (
    ("apk", ("add",), ()),
    ("apt", ("install",), ()),
    ("apt-get", ("install",), ()),
    ("dnf", ("install",), ()),
    ("pacman", (), ("-S",)),
    ("pkg", ("install",), ()),
    ("yum", ("install",), ()),
    ("zypper", ("install",), ()),
    ("brew", ("install",), ()),
    ("cargo", ("install",), ()),
    ("gem", ("install",), ()),
    ("go", ("install",), ()),
    ("npm", ("install",), ("--global",)),
    ("npm", ("install",), ("-g",)),
    ("pip", ("install",), ("--user",)),
    ("pip3", ("install",), ("--user",)),
    ("pnpm", ("add",), ("--global",)),
    ("pnpm", ("add",), ("-g",)),
    ("yarn", ("global", "add"), ()),
    ("go", ("test",), ("-exec",)),  # `go test -exec` runs any program
)


def banned_reason(argv: Sequence[str]) -> str | None:
    """Return why ``argv`` may not run, or None when it may.

    Args:
        argv: one simple command's words, literal, ``argv[0]`` a base name.

    Returns:
        Upstream's refusal text (``command is not allowed for security
        reasons: "curl"``) or None.
    """
    if not argv:
        return None
    if argv[0] in BANNED_COMMANDS or any(
        _matches(rule, argv) for rule in ARGUMENT_RULES
    ):
        return f'command is not allowed for security reasons: "{argv[0]}"'
    return None


def _matches(
    rule: tuple[str, tuple[str, ...], tuple[str, ...]], argv: Sequence[str]
) -> bool:
    program, subcommands, flags = rule
    if argv[0] != program:
        return False
    words = [a for a in argv[1:] if not a.startswith("-")]
    given = {a.split("=", 1)[0] for a in argv[1:] if a.startswith("-")}
    return tuple(words[: len(subcommands)]) == subcommands and set(flags) <= given


#: Programs that only look (upstream's list without ``kill``/``killall``,
#: which signal processes, and the wrappers, which ``_shellparse`` unwraps).
READ_ONLY_COMMANDS = frozenset({
    "cal", "date", "df", "du", "echo", "false", "free", "groups", "hostname",
    "id", "ls", "printenv", "ps", "pwd", "set", "top", "true", "type", "uname",
    "uptime", "whatis", "whereis", "which", "whoami",
})  # fmt: skip

#: Read-only ``gh`` and ``brew`` sub-commands (upstream's prefixes).
READ_ONLY_PREFIXES = frozenset({
    ("gh", "auth", "status"), ("gh", "alias", "list"), ("gh", "cache", "list"),
    ("gh", "codespace", "list"), ("gh", "extension", "list"),
    ("gh", "gist", "list"), ("gh", "issue", "list"), ("gh", "issue", "view"),
    ("gh", "label", "list"), ("gh", "pr", "diff"), ("gh", "pr", "list"),
    ("gh", "pr", "view"), ("gh", "repo", "list"), ("gh", "repo", "view"),
    ("gh", "run", "list"), ("gh", "run", "view"), ("gh", "search"),
    ("gh", "secret", "list"), ("gh", "ssh-key", "list"),
    ("gh", "variable", "list"), ("gh", "workflow", "list"),
    ("brew", "--version"), ("brew", "config"), ("brew", "deps"),
    ("brew", "doctor"), ("brew", "info"), ("brew", "leaves"), ("brew", "list"),
    ("brew", "outdated"), ("brew", "search"), ("brew", "services", "list"),
    ("brew", "tap"), ("brew", "uses"),
})  # fmt: skip

#: Flags that make an otherwise read-only program change something.
_WRITING_FLAGS = {
    "date": {"-s", "--set"},
    "hostname": {"-F", "--file", "-b", "--boot"},
}


def is_read_only_argv(argv: Sequence[str]) -> bool:
    """Return True when one simple command only reads (no permission needed).

    Args:
        argv: the command's literal words, wrappers removed.
    """
    if not argv:
        return True
    name, args = argv[0], argv[1:]
    if name == "git":
        return is_read_only_git(args)
    if name in READ_ONLY_COMMANDS:
        return _no_writing_flags(name, args)
    return any(tuple(argv[: len(p)]) == p for p in READ_ONLY_PREFIXES)


def _no_writing_flags(name: str, args: Sequence[str]) -> bool:
    if name == "hostname" and any(not a.startswith("-") for a in args):
        return False  # `hostname NAME` sets it
    writing = _WRITING_FLAGS.get(name, set())
    return not any(a.split("=", 1)[0] in writing for a in args)
