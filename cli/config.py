"""Defaults for options typed on every call: a TOML file, then environment variables, then flags.

Precedence: a value given as a flag wins over ``VCSDK_*`` environment variables, which win over
the config file (``--config PATH`` or ``VCSDK_CONFIG``). Relative paths in the file are relative
to the file's directory.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import NamedTuple

from vcsdk.errors import FileError, UsageError


class Setting(NamedTuple):
    """One configurable option: its TOML key, environment variable and argparse destinations."""

    key: str
    env: str
    dests: tuple[str, ...]
    is_list: bool
    exclude: tuple[str, ...] = ()
    """Command paths where an option of that name means something else."""


SETTINGS: tuple[Setting, ...] = (
    Setting("db", "VCSDK_DB", ("db",), False),
    Setting("keyring", "VCSDK_KEYRING", ("keyring",), False),
    Setting("trust", "VCSDK_TRUST", ("trust",), True, ("registry audit",)),  # there: a checkpoint key
    Setting("trust_anchor", "VCSDK_TRUST_ANCHOR", ("trust_anchor",), True),
    Setting("state_dir", "VCSDK_STATE_DIR", ("state", "state_dir"), False),
)

CONFIG_HELP = f"""\
configuration (a flag wins over the environment, which wins over the file):
  --config PATH or VCSDK_CONFIG   TOML file, e.g.  db = "registry.sqlite"
                                                   keyring = "keys/KR-MOIS"
                                                   trust = ["trust.jwks"]
                                                   trust_anchor = ["anchor.pub.pem"]
                                                   state_dir = "state"
  VCSDK_DB, VCSDK_KEYRING, VCSDK_STATE_DIR        one path each
  VCSDK_TRUST, VCSDK_TRUST_ANCHOR                 paths separated by '{os.pathsep}'
"""


def _config_path(argv: Sequence[str]) -> str | None:
    """``--config PATH`` given before the command (a command's own ``--config`` is its business)."""
    words = iter(argv)
    for word in words:
        if word == "--config":
            return next(words, None)
        if word.startswith("--config="):
            return word.split("=", 1)[1]
        if not word.startswith("-"):
            break
    return os.environ.get("VCSDK_CONFIG") or None


def load_file(path: str) -> dict[str, list[str]]:
    """The settings of a TOML config file, as lists of paths (relative to the file)."""
    import tomllib

    file = Path(path)
    try:
        document = tomllib.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FileError(f"config file {path} does not exist") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise UsageError(f"config file {path} is not valid TOML ({exc})") from None
    known = {setting.key: setting for setting in SETTINGS}
    values: dict[str, list[str]] = {}
    for key, value in document.items():
        setting = known.get(key)
        if setting is None:
            raise UsageError(f"config file {path}: unknown key {key!r} (known: {', '.join(known)})")
        items = value if isinstance(value, list) else [value]
        if not items or not all(isinstance(item, str) and item for item in items):
            raise UsageError(f"config file {path}: {key} must be a path" + (" or a list of paths" * setting.is_list))
        if len(items) > 1 and not setting.is_list:
            raise UsageError(f"config file {path}: {key} takes one path")
        values[key] = [str(file.parent / item) for item in items]
    return values


def resolve(argv: Sequence[str], environ: dict[str, str] | None = None) -> dict[str, list[str]]:
    """Settings from the file, overridden per key by the environment (flags come later)."""
    env = os.environ if environ is None else environ
    path = _config_path(argv)
    values = load_file(path) if path else {}
    for setting in SETTINGS:
        raw = env.get(setting.env)
        if raw:
            values[setting.key] = [item for item in raw.split(os.pathsep) if item] if setting.is_list else [raw]
    return values


def _parsers(parser: argparse.ArgumentParser, path: str = "") -> Iterator[tuple[str, argparse.ArgumentParser]]:
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _parsers(sub, f"{path} {name}".strip())


class Configured:
    """What :func:`prepare` did, for :func:`fill` to finish after parsing."""

    def __init__(self, values: dict[str, list[str]]) -> None:
        self.values = values
        self.lists: dict[str, str] = {}  # dest -> setting key, for list options left to the configuration
        self.rivals: list[tuple[str, str, list[str]]] = []  # (dest, configured value, dests it excludes)


def prepare(parser: argparse.ArgumentParser, argv: Sequence[str]) -> Configured:
    """Turn configured values into defaults before parsing (so required options may come from them)."""
    done = Configured(resolve(argv))
    by_dest = {dest: setting for setting in SETTINGS for dest in setting.dests}
    for path, sub in _parsers(parser):
        configured: set[argparse.Action] = set()
        for action in sub._actions:
            setting = by_dest.get(action.dest)
            if setting is None or not action.option_strings or setting.key not in done.values:
                continue
            if any(path == excluded or path.startswith(excluded + " ") for excluded in setting.exclude):
                continue
            configured.add(action)
            if isinstance(action, argparse._AppendAction):
                action.default = None  # None after parsing: no flag given, the configured list applies
                done.lists[action.dest] = setting.key
            else:
                action.default = done.values[setting.key][0]
            action.required = False
        for group in sub._mutually_exclusive_groups:
            mine = configured.intersection(group._group_actions)
            if mine:
                group.required = False
            for action in mine:
                if not isinstance(action, argparse._AppendAction):
                    others = [a.dest for a in group._group_actions if a is not action]
                    done.rivals.append((action.dest, str(action.default), others))
    return done


def fill(args: argparse.Namespace, done: Configured) -> None:
    """After parsing: configured lists for list options not given; a flag beats a configured rival
    (``--key`` given on the command line wins over a configured ``keyring``)."""
    for dest, key in done.lists.items():
        if hasattr(args, dest) and getattr(args, dest) is None:
            setattr(args, dest, list(done.values[key]))
    for dest, value, others in done.rivals:
        if getattr(args, dest, None) == value and any(getattr(args, other, None) for other in others):
            setattr(args, dest, None)
