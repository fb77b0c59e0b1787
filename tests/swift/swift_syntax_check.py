"""Parses Swift sources with the tree-sitter Swift grammar and reports every error node.

There is no Swift compiler on Linux CI (TOOLCHAIN.md §6); this is the syntax check that runs.
Two constructs that are valid Swift but unknown to the grammar are blanked to the same length,
so line numbers stay right.
"""
import re
import sys

import tree_sitter_swift
from tree_sitter import Language, Parser


def main(paths):
    parser = Parser(Language(tree_sitter_swift.language()))
    bad = 0
    for path in paths:
        with open(path, "rb") as f:
            src = f.read()
        src = re.sub(rb"@_documentation\(visibility:\s*private\)", lambda m: b" " * len(m[0]), src)
        src = re.sub(rb"\{\s*\(\)\s*\}", lambda m: b"{" + b" " * (len(m[0]) - 2) + b"}", src)
        stack = [parser.parse(src).root_node]
        while stack:
            n = stack.pop()
            if n.is_error or n.is_missing:
                bad += 1
                kind = "MISSING " + n.type if n.is_missing else "ERROR"
                print(f"{path}:{n.start_point[0] + 1}: {kind}")
            elif n.has_error:
                stack.extend(n.children)
    print(f"swift syntax: {len(paths)} file(s), {bad} problem node(s)")
    return 1 if bad or not paths else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
