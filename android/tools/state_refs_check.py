#!/usr/bin/env python3
"""Checks that the Compose screens read only presenter state that exists.

The Compose sources cannot be compiled here (no Android SDK), so a renamed or removed state
field would go unnoticed. This parses the presenter/library sources (and the generated
bindings, for core types such as Banner) with tree-sitter-kotlin, collects every class with its
members (constructor properties, body properties, member functions, enum entries), then parses
the Compose sources and, in every function and typed lambda, checks each `p.member` where `p` is
a parameter declared with one of those classes (`state: CaseloadState`, `row: FieldRow`,
`issue: IssueRow`…). A parameter named `state` must have a known type.

    python android/tools/state_refs_check.py --types android/homevisit/src/main/kotlin \
        --types gen/kotlin android/app/src/main/kotlin

Exit 1 on any unknown member or state type, or when no reference at all was checked.
"""
import argparse
import os
import sys

import tree_sitter_kotlin
from tree_sitter import Language, Parser

PARSER = Parser(Language(tree_sitter_kotlin.language()))


def kotlin_files(paths):
    for p in paths:
        if os.path.isfile(p):
            yield p
        else:
            for root, _, files in os.walk(p):
                for f in sorted(files):
                    if f.endswith(".kt"):
                        yield os.path.join(root, f)


def text(n):
    return n.text.decode()


def first(n, kind):
    return next((c for c in n.children if c.type == kind), None)


def walk(n):
    stack = [n]
    while stack:
        x = stack.pop()
        yield x
        stack.extend(reversed(x.children))


def class_members(cls):
    """Members of a class_declaration / object_declaration."""
    members = set()
    ctor = first(cls, "primary_constructor")
    if ctor is not None:
        params = first(ctor, "class_parameters")
        for p in params.children if params is not None else []:
            if p.type == "class_parameter" and first(p, "val") is not None or (
                p.type == "class_parameter" and first(p, "var") is not None
            ):
                ident = first(p, "identifier")
                if ident is not None:
                    members.add(text(ident))
    body = first(cls, "class_body") or first(cls, "enum_class_body")
    for c in body.children if body is not None else []:
        if c.type == "property_declaration":
            for v in walk(c):
                if v.type == "variable_declaration":
                    ident = first(v, "identifier")
                    if ident is not None:
                        members.add(text(ident))
                    break
        elif c.type == "function_declaration":
            ident = first(c, "identifier")
            if ident is not None:
                members.add(text(ident))
        elif c.type == "enum_entry":
            ident = first(c, "identifier")
            if ident is not None:
                members.add(text(ident))
        elif c.type in ("class_declaration", "object_declaration", "companion_object"):
            ident = first(c, "identifier")
            if ident is not None:
                members.add(text(ident))
    # Every data class has copy() and componentN(); every class has toString() etc.
    members.update({"copy", "toString", "hashCode", "equals", "name", "ordinal"} if cls.type == "class_declaration" else set())
    return members


def collect_types(paths):
    classes = {}
    for path in kotlin_files(paths):
        with open(path, "rb") as f:
            tree = PARSER.parse(f.read())
        for n in walk(tree.root_node):
            if n.type in ("class_declaration", "object_declaration"):
                ident = first(n, "identifier")
                if ident is not None:
                    classes.setdefault(text(ident), set()).update(class_members(n))
    return classes


def type_name(t):
    """`Foo`, `Foo?` → `Foo`; generic or function types → None."""
    if t is None:
        return None
    if t.type == "nullable_type":
        t = first(t, "user_type")
        if t is None:
            return None
    if t.type != "user_type" or first(t, "type_arguments") is not None:
        return None
    idents = [c for c in t.children if c.type == "identifier"]
    return text(idents[-1]) if idents else None


def typed_params(fn):
    """(name, type name, node) of a function's or typed lambda's parameters."""
    out = []
    if fn.type == "function_declaration":
        params = first(fn, "function_value_parameters")
        for p in params.children if params is not None else []:
            if p.type == "parameter":
                ident = first(p, "identifier")
                ty = next((c for c in p.children if c.type in ("user_type", "nullable_type")), None)
                if ident is not None:
                    out.append((text(ident), type_name(ty), p))
    elif fn.type == "lambda_literal":
        params = first(fn, "lambda_parameters")
        for v in params.children if params is not None else []:
            if v.type == "variable_declaration":
                ident = first(v, "identifier")
                ty = next((c for c in v.children if c.type in ("user_type", "nullable_type")), None)
                if ident is not None and ty is not None:
                    out.append((text(ident), type_name(ty), v))
    return out


def check_file(path, classes):
    with open(path, "rb") as f:
        tree = PARSER.parse(f.read())
    problems, checked = [], 0
    for fn in walk(tree.root_node):
        if fn.type not in ("function_declaration", "lambda_literal"):
            continue
        scope = {}
        for name, ty, node in typed_params(fn):
            if ty in classes:
                scope[name] = ty
            elif name == "state":
                problems.append(f"{path}:{node.start_point[0] + 1}: `state` has unknown type {ty}")
        if not scope:
            continue
        body = first(fn, "function_body") if fn.type == "function_declaration" else fn
        for n in walk(body) if body is not None else []:
            if n.type != "navigation_expression" or len(n.children) < 3:
                continue
            recv, member = n.children[0], n.children[-1]
            if recv.type != "identifier" or member.type != "identifier":
                continue
            ty = scope.get(text(recv))
            if ty is None:
                continue
            checked += 1
            if text(member) not in classes[ty]:
                problems.append(
                    f"{path}:{n.start_point[0] + 1}: {text(recv)}.{text(member)}: {ty} has no member `{text(member)}`"
                )
    return problems, checked


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--types", action="append", default=[], help="file or directory declaring the state classes")
    ap.add_argument("screens", nargs="+", help="Compose files or directories")
    args = ap.parse_args()
    classes = collect_types(args.types)
    problems, checked, files = [], 0, 0
    for path in kotlin_files(args.screens):
        files += 1
        p, c = check_file(path, classes)
        problems += p
        checked += c
    for p in problems:
        print(p)
    print(f"state references: {files} file(s), {checked} reference(s) checked against {len(classes)} class(es), {len(problems)} problem(s)")
    return 1 if problems or checked == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
