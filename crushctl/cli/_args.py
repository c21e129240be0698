"""Argument types: a bad ``--host`` or ``--cwd`` is a usage error (exit 2).

argparse turns the ``ArgumentTypeError`` of a ``type=`` function into
``crushctl: error: argument --host: <message>`` and exit status 2, before any
connection is tried: never a traceback (issue 15).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import httpx

from crushctl._http import base_url
from crushd.proto import parse_host


def host_url(text: str) -> str:
    """Check a ``--host`` value; return it unchanged.

    Accepts ``unix:///PATH`` and ``tcp://HOST[:PORT]`` with a numeric port.

    Raises:
        argparse.ArgumentTypeError: no ``://``, an unknown scheme, an empty
            address, an ``fd://`` host (only a daemon adopts descriptors) or a
            tcp address httpx cannot use (``tcp://127.0.0.1:notaport``).
    """
    try:
        httpx.URL(base_url(parse_host(text)))
    except (ValueError, httpx.InvalidURL) as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def existing_dir(text: str) -> str:
    """Check a ``--cwd`` value names an existing folder; return it unchanged.

    A mistyped ``--cwd`` must not create a project (and its database) silently.

    Raises:
        argparse.ArgumentTypeError: the path does not exist or is not a folder.
    """
    path = Path(text).expanduser()
    if not path.exists():
        raise argparse.ArgumentTypeError(f"no such folder: {text}")
    if not path.is_dir():
        raise argparse.ArgumentTypeError(f"not a folder: {text}")
    return text
