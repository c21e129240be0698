"""The bash tool's look at a command before it runs: read-only? banned?

The command is parsed with tree-sitter-bash. It is read-only (no permission
prompt) only when it parses cleanly, every simple command is read-only once
its wrappers (``env``, ``timeout N``, ``nice``, ``nohup``, ``time``,
``command``, ``exec``, ``xargs``) are removed, no redirection writes a file,
there is no command or process substitution, no control structure or function,
and no variable assignment other than locale and terminal settings. A command
is banned when any simple command in it, wrappers removed, ``bash -c`` /
``sh -c`` / ``eval`` bodies included, matches the block list.

Source: Crush ``internal/agent/tools/safe.go`` and ``bash.go`` (lists), its
``internal/shell`` block functions; crushd closes upstream's prefix holes
(``timeout 1 rm x``, ``echo x > f``, ``$(...)``; docs/agent.md 1.17, 2.3).
"""

from __future__ import annotations

import os
from functools import cache

import attrs
import tree_sitter
import tree_sitter_bash

from ._shellrules import banned_reason, is_read_only_argv
from ._shellwords import SAFE_VARIABLE, UNKNOWN, literal, unwrap

#: Node types a read-only command may contain (named nodes only).
_HARMLESS = frozenset({
    "program", "list", "pipeline", "redirected_statement", "subshell",
    "compound_statement", "negated_command", "comment", "command",
    "command_name", "word", "string", "string_content", "raw_string", "number",
    "concatenation", "simple_expansion", "expansion", "variable_name",
    "special_variable_name", "variable_assignment", "unset_command",
    "file_redirect", "file_descriptor", "heredoc_redirect", "heredoc_start",
    "heredoc_body", "heredoc_content", "heredoc_end", "herestring_redirect",
    "ansi_c_string", "translated_string",
})  # fmt: skip

#: Shells whose ``-c BODY`` is checked against the block list too.
_SHELLS = frozenset({"sh", "bash", "dash", "zsh", "ksh", "ash"})

#: How deep ``bash -c 'bash -c ...'`` bodies are followed.
_MAX_DEPTH = 8


@attrs.frozen
class ShellCheck:
    """What the bash tool learns from a command's parse.

    Attributes:
        parsed: False when the parse had errors (then never read-only).
        read_only: True when the command may run without a permission prompt.
        banned: upstream's refusal text for a blocked command, else None.
    """

    parsed: bool
    read_only: bool
    banned: str | None


def check_command(command: str) -> ShellCheck:
    """Parse ``command`` (bash source) and classify it; never raises."""
    return _check(command, 0)


def is_read_only(command: str) -> bool:
    """Return True when ``command`` may run without asking (see the module)."""
    return check_command(command).read_only


@cache
def _parser() -> tree_sitter.Parser:
    return tree_sitter.Parser(tree_sitter.Language(tree_sitter_bash.language()))


def _check(command: str, depth: int) -> ShellCheck:
    tree = _parser().parse(command.encode("utf-8", "surrogatepass"))
    root = tree.root_node
    parsed = not root.has_error
    read_only, banned = parsed, None
    for node in _named_nodes(root):
        read_only = read_only and _node_read_only(node)
        if node.type == "command":
            banned = banned or _command_banned(node, depth)
    return ShellCheck(
        parsed=parsed, read_only=read_only and banned is None, banned=banned
    )


def _named_nodes(root: tree_sitter.Node) -> list[tree_sitter.Node]:
    found, stack = [], [root]
    while stack:
        node = stack.pop()
        found.append(node)
        stack.extend(reversed(node.named_children))
    return found


def _node_read_only(node: tree_sitter.Node) -> bool:
    kind = node.type
    if kind not in _HARMLESS:
        return False
    if kind == "command":
        argv, clean = unwrap(_argv(node))
        return clean and is_read_only_argv(argv)
    if kind == "variable_assignment":
        name = node.child_by_field_name("name")
        return name is not None and SAFE_VARIABLE.fullmatch(_text(name)) is not None
    if kind == "file_redirect":
        return _redirect_read_only(node)
    return True


def _argv(command: tree_sitter.Node) -> list[str]:
    name = command.child_by_field_name("name")
    words = [name, *command.children_by_field_name("argument")]
    return [literal(w) if w is not None else UNKNOWN for w in words]


def _redirect_read_only(node: tree_sitter.Node) -> bool:
    """True for input, fd duplication and closing, and output to /dev/null."""
    operator = next((c.type for c in node.children if not c.is_named), "")
    target = node.child_by_field_name("destination")
    value = literal(target) if target is not None else ""
    if value.startswith(("/dev/tcp/", "/dev/udp/")):
        return False
    if operator in {"<", ">&-", "<&-"}:
        return True
    if operator in {">&", "<&"} and target is not None and target.type == "number":
        return True
    return value == "/dev/null"


def _command_banned(command: tree_sitter.Node, depth: int) -> str | None:
    argv, _ = unwrap(_argv(command))
    if not argv or argv[0] == UNKNOWN:
        return None
    argv = [os.path.basename(argv[0]), *argv[1:]]
    reason = banned_reason(argv)
    body = _shell_body(argv)
    if reason is None and body is not None and depth < _MAX_DEPTH:
        reason = _check(body, depth + 1).banned
    return reason


def _shell_body(argv: list[str]) -> str | None:
    """The literal script ``sh -c BODY`` or ``eval WORDS`` runs, if any."""
    if argv[0] == "eval" and UNKNOWN not in argv[1:]:
        return " ".join(argv[1:])
    if argv[0] not in _SHELLS:
        return None
    for index, word in enumerate(argv[1:-1], start=1):
        if word.startswith("-") and not word.startswith("--") and "c" in word:
            return argv[index + 1] if argv[index + 1] != UNKNOWN else None
    return None


def _text(node: tree_sitter.Node) -> str:
    return (node.text or b"").decode("utf-8", "surrogateescape")
