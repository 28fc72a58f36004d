"""``vcsdk completion bash|zsh``: a completion script generated from the parser itself."""

from __future__ import annotations

import argparse
import shlex

from .common import EXIT_OK, Parser


def _tree(parser: argparse.ArgumentParser, path: str = "") -> dict[str, tuple[list[str], list[str]]]:
    """``{"keys generate": (subcommands, options)}`` for every command path."""
    words: list[str] = []
    options: list[str] = []
    children: dict[str, argparse.ArgumentParser] = {}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            children.update(action.choices)
            words.extend(action.choices)
        else:
            options.extend(option for option in action.option_strings if option.startswith("--"))
    table = {path: (words, options)}
    for name, child in children.items():
        table.update(_tree(child, f"{path} {name}".strip()))
    return table


def bash_script() -> str:
    """A bash completion function for every command, subcommand and option."""
    from .main import build_parser

    table = _tree(build_parser(full=True))
    cases = "\n".join(
        f"        {shlex.quote(path or '.')}) words={shlex.quote(' '.join(sub + opts))} ;;"
        for path, (sub, opts) in sorted(table.items())
    )
    known = "|" + "|".join(path for path in sorted(table) if path) + "|"
    return f"""# vcsdk bash completion: eval "$(vcsdk completion bash)"  (zsh: autoload bashcompinit first)
_vcsdk() {{
    local cur="${{COMP_WORDS[COMP_CWORD]}}" path="" word words next known={shlex.quote(known)}
    for word in "${{COMP_WORDS[@]:1:COMP_CWORD-1}}"; do
        next="${{path:+$path }}$word"
        [[ "$known" == *"|$next|"* ]] && path="$next"
    done
    case "${{path:-.}}" in
{cases}
        *) words="" ;;
    esac
    if [[ -z "$words" || "$cur" == ./* || "$cur" == /* ]]; then
        COMPREPLY=($(compgen -f -- "$cur"))
    else
        COMPREPLY=($(compgen -W "$words" -- "$cur"))
        [[ ${{#COMPREPLY[@]}} -eq 0 ]] && COMPREPLY=($(compgen -f -- "$cur"))
    fi
}}
complete -o filenames -F _vcsdk vcsdk
"""


def cmd_completion(args: argparse.Namespace) -> int:
    script = bash_script()
    if args.shell == "zsh":
        script = "autoload -U +X bashcompinit && bashcompinit\n" + script
    print(script, end="")
    return EXIT_OK


def register_completion(commands: argparse._SubParsersAction[Parser]) -> None:
    """Add ``vcsdk completion``."""
    completion = commands.add_parser(
        "completion",
        help="print a shell completion script",
        description="Print a completion script for bash or zsh, generated from vcsdk's own parser.",
        epilog='example:\n  eval "$(vcsdk completion bash)"    # in ~/.bashrc',
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    completion.add_argument("shell", choices=["bash", "zsh"], help="the shell to complete for")
    completion.set_defaults(func=cmd_completion)
