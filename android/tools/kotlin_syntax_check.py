#!/usr/bin/env python3
"""Kotlin grammar check: parses each file with tree-sitter-kotlin and reports every ERROR or
MISSING node (file:line:column). Exit 1 if any. Used for the Compose and Android-only sources,
which cannot be compiled without the Android SDK, and for all other Kotlin under android/.

    pip install 'tree-sitter==0.26.1' 'tree-sitter-kotlin==1.1.0'
    python android/tools/kotlin_syntax_check.py $(find android -name '*.kt')
"""
import sys

import tree_sitter_kotlin
from tree_sitter import Language, Parser


def problems(parser: Parser, src: bytes):
    """Yields (line, column, kind) of every ERROR / MISSING node."""
    stack = [parser.parse(src).root_node]
    while stack:
        n = stack.pop()
        if n.is_error or n.is_missing:
            kind = f"MISSING {n.type}" if n.is_missing else "ERROR"
            yield n.start_point[0] + 1, n.start_point[1] + 1, kind
            if n.is_error:
                # Report nested problems too: one broken line must not hide another.
                stack.extend(n.children)
        elif n.has_error:
            stack.extend(n.children)


def main(paths: list[str]) -> int:
    if not paths:
        print("kotlin syntax: no files given")
        return 1
    parser = Parser(Language(tree_sitter_kotlin.language()))
    bad = 0
    for path in paths:
        with open(path, "rb") as f:
            src = f.read()
        for line, col, kind in problems(parser, src):
            bad += 1
            print(f"{path}:{line}:{col}: {kind}")
    print(f"kotlin syntax: {len(paths)} file(s), {bad} problem node(s)")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
