"""Layered ``crush.json`` configuration: loading, merging, redaction, writes.

A leaf package: files in, a configuration out. It knows nothing of
workspaces, the registry or HTTP (docs/protocol.md 7.1-7.2, decisions B.17, B.22).
"""

from typing import TYPE_CHECKING

from crushd import _lazy
from crushd.proto import (
    MASK,
    MASK_TAIL_MIN_CHARS,
    looks_secret,
    mask,
    mask_in_text,
    redact,
    redact_env_list,
)
from crushd.trust import project_boundary, project_dirs

from ._secrets import (
    MIN_SECRET_CHARS,
    forget_secrets,
    remember_environ,
    remember_secrets,
    scrub_known_secret_bytes,
    scrub_known_secrets,
    scrub_secrets,
    secrets_in_document,
    secrets_in_environ,
)
from ._sources import (
    PROJECT_FILE_NAMES,
    SYSTEM_CONFIG_FILE,
    ConfigSources,
    Layer,
    project_layers,
    resolve_data_dir,
)

if TYPE_CHECKING:
    from ._document import (
        deep_merge,
        remove_key,
        resolve_variables,
        set_key,
        split_key,
    )
    from ._layers import SCRIPT_TIMEOUT_SECONDS, config_error, parse_document
    from ._limits import (
        MAX_CONFIG_FILE_BYTES,
        MAX_CONFIG_NESTING,
        MAX_KEY_PARTS,
        document_problem,
    )
    from ._load import LoadedConfig, load_config, load_global_config
    from ._model import (
        Config,
        LsTool,
        Options,
        Permissions,
        ProviderConfig,
        SelectedModel,
        TimeoutTool,
        Tools,
        TUIOptions,
        structure_config,
    )
    from ._write import (
        LOCK_POLL_SECONDS,
        LOCK_TIMEOUT_SECONDS,
        Mutation,
        encode_document,
        lock_path,
        locked,
        rewrite,
        update_file,
        write_atomic,
    )

# The config model (about 40 attrs classes) and its loaders are imported when
# the first workspace loads its config, not when the daemon starts.
_LAZY = _lazy.exports(
    {
        "._document": (
            "deep_merge",
            "remove_key",
            "resolve_variables",
            "set_key",
            "split_key",
        ),
        "._layers": ("SCRIPT_TIMEOUT_SECONDS", "config_error", "parse_document"),
        "._limits": (
            "MAX_CONFIG_FILE_BYTES",
            "MAX_CONFIG_NESTING",
            "MAX_KEY_PARTS",
            "document_problem",
        ),
        "._load": ("LoadedConfig", "load_config", "load_global_config"),
        "._model": (
            "Config",
            "LsTool",
            "Options",
            "Permissions",
            "ProviderConfig",
            "SelectedModel",
            "TimeoutTool",
            "Tools",
            "TUIOptions",
            "structure_config",
        ),
        "._write": (
            "LOCK_POLL_SECONDS",
            "LOCK_TIMEOUT_SECONDS",
            "Mutation",
            "encode_document",
            "lock_path",
            "locked",
            "rewrite",
            "update_file",
            "write_atomic",
        ),
    }
)


def __getattr__(name: str) -> object:
    """Import a config submodule the first time one of its names is read."""
    return _lazy.load(__name__, _LAZY, name)


__all__ = [
    "LOCK_POLL_SECONDS",
    "LOCK_TIMEOUT_SECONDS",
    "MASK",
    "MASK_TAIL_MIN_CHARS",
    "MAX_CONFIG_FILE_BYTES",
    "MAX_CONFIG_NESTING",
    "MAX_KEY_PARTS",
    "MIN_SECRET_CHARS",
    "PROJECT_FILE_NAMES",
    "SCRIPT_TIMEOUT_SECONDS",
    "SYSTEM_CONFIG_FILE",
    "Config",
    "ConfigSources",
    "Layer",
    "LoadedConfig",
    "LsTool",
    "Mutation",
    "Options",
    "Permissions",
    "ProviderConfig",
    "SelectedModel",
    "TUIOptions",
    "TimeoutTool",
    "Tools",
    "config_error",
    "deep_merge",
    "document_problem",
    "encode_document",
    "forget_secrets",
    "load_config",
    "load_global_config",
    "lock_path",
    "locked",
    "looks_secret",
    "mask",
    "mask_in_text",
    "parse_document",
    "project_boundary",
    "project_dirs",
    "project_layers",
    "redact",
    "redact_env_list",
    "remember_environ",
    "remember_secrets",
    "remove_key",
    "resolve_data_dir",
    "resolve_variables",
    "rewrite",
    "scrub_known_secret_bytes",
    "scrub_known_secrets",
    "scrub_secrets",
    "secrets_in_document",
    "secrets_in_environ",
    "set_key",
    "split_key",
    "structure_config",
    "update_file",
    "write_atomic",
]
