"""Declarations of Kotlin and Swift sources, as much as the mirror checks need.

No compiler runs here (TOOLCHAIN.md §6), so this reads the declarations the two apps share by
shape: comments and string literals are blanked first, then declarations are found with their
brace (and, for Kotlin primary constructors, parenthesis) depth. It understands the subset the
presenter and view-model files use: data classes / structs with their properties, enums with
their cases, objects / caseless enums with static members, and classes with their methods and
properties, each with its visibility.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field


@dataclass
class Decl:
    """One type: its kind, members (name → visibility) and, for enums, cases."""

    name: str
    kind: str  # "data", "enum", "object", "class", "struct", "interface"
    file: str
    props: dict[str, str] = field(default_factory=dict)
    funcs: dict[str, str] = field(default_factory=dict)
    cases: list[str] = field(default_factory=list)
    bases: list[str] = field(default_factory=list)
    params: dict[str, list[str]] = field(default_factory=dict)


def blank(src: str, kotlin: bool) -> str:
    """Comments and string contents replaced by spaces (newlines kept, so lines stay right)."""
    out = []
    i, n = 0, len(src)
    while i < n:
        c = src[i]
        if src.startswith("//", i):
            j = src.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif src.startswith("/*", i):
            j = src.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r"[^\n]", " ", src[i:j]))
            i = j
        elif src.startswith('"""', i):
            j = src.find('"""', i + 3)
            j = n if j < 0 else j + 3
            out.append('"' + re.sub(r"[^\n]", " ", src[i + 1 : j - 1]) + '"')
            i = j
        elif c == '"':
            j = i + 1
            depth = 0  # Swift "\( … )" / Kotlin "${ … }" interpolation may hold quotes
            while j < n:
                if src[j] == "\\" and j + 1 < n:
                    if not kotlin and src[j + 1] == "(":
                        depth += 1
                        j += 2
                        continue
                    j += 2
                    continue
                if kotlin and src.startswith("${", j):
                    depth += 1
                    j += 2
                    continue
                if depth and src[j] in ")}":
                    depth -= 1
                elif src[j] == '"' and not depth:
                    break
                elif src[j] == "\n":
                    break
                j += 1
            out.append('"' + " " * (j - i - 1) + '"')
            i = j + 1
        elif kotlin and c == "'" and i + 2 < n:
            j = src.find("'", i + 1)
            if 0 < j - i <= 7:
                out.append("'" + " " * (j - i - 1) + "'")
                i = j + 1
            else:
                out.append(c)
                i += 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def match(src: str, i: int, open_: str, close: str) -> int:
    """Index just past the bracket that closes the one at `i`."""
    depth = 0
    for j in range(i, len(src)):
        if src[j] == open_:
            depth += 1
        elif src[j] == close:
            depth -= 1
            if depth == 0:
                return j + 1
    return len(src)


def top_level(body: str) -> str:
    """`body` with everything nested in braces blanked: the members at depth 0 remain."""
    out, depth = [], 0
    for ch in body:
        if ch == "{":
            depth += 1
            out.append(" ")
        elif ch == "}":
            depth -= 1
            out.append(" ")
        else:
            out.append(ch if depth == 0 else (" " if ch != "\n" else "\n"))
    return "".join(out)


def split_top(params: str) -> list[str]:
    """Split a parameter list on commas outside brackets."""
    parts, depth, cur = [], 0, []
    prev = ""
    for ch in params:
        if ch in "([{<":
            depth += 1
        elif ch in ")]}" or (ch == ">" and prev != "-"):
            depth -= 1
        prev = ch
        if ch == "," and depth == 0:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    if "".join(cur).strip():
        parts.append("".join(cur))
    return parts


# Kotlin parameters that carry the platform's concurrency machinery, not screen data: Swift's
# structured concurrency (tasks, the main actor, the executor) takes their place.
KOTLIN_ONLY_PARAM_TYPES = re.compile(r"\b(CoroutineScope|CoroutineDispatcher)\b")


def kotlin_params(src: str, open_paren: int) -> list[str]:
    """Names of the parameters of the list opening at `open_paren`, platform-only ones left out."""
    end = match(src, open_paren, "(", ")")
    names = []
    for p in split_top(src[open_paren + 1 : end - 1]):
        p = re.sub(r"@\w+(\([^)]*\))?\s*", "", p).strip()
        p = re.sub(r"^(vararg|noinline|crossinline)\s+", "", p)
        m = re.match(r"(?:(?:private|protected|internal|override)\s+)*(?:val\s+|var\s+)?(\w+)\s*:\s*(.*)", p, re.S)
        if m and not KOTLIN_ONLY_PARAM_TYPES.search(m.group(2)):
            names.append(m.group(1))
    return names


def swift_params(src: str, open_paren: int) -> list[str]:
    """Internal names of the parameters of the list opening at `open_paren`."""
    end = match(src, open_paren, "(", ")")
    names = []
    for p in split_top(src[open_paren + 1 : end - 1]):
        m = re.match(r"\s*(\w+)(?:\s+(\w+))?\s*:", p)
        if m:
            names.append(m.group(2) or m.group(1))
    return names


KT_VIS = re.compile(r"\b(private|protected|internal|override)\b")
SW_VIS = re.compile(r"\b(private|fileprivate)\b(?!\s*\(set\))")


def _vis(prefix: str, rx: re.Pattern) -> str:
    m = rx.search(prefix)
    return m.group(1) if m else "public"


def kotlin_decls(path: str) -> dict[str, Decl]:
    src = blank(open(path, encoding="utf-8").read(), kotlin=True)
    decls: dict[str, Decl] = {}
    head = re.compile(
        r"(?m)^(?P<indent>[ \t]*)(?P<mods>(?:(?:public|private|internal|abstract|open|sealed|data|enum|fun)\s+)*)"
        r"(?P<kw>class|object|interface)\s+(?P<name>[A-Za-z_]\w*)"
    )
    for m in head.finditer(src):
        mods, kw, name = m.group("mods"), m.group("kw"), m.group("name")
        if "private" in mods:
            continue
        kind = "data" if "data" in mods else "enum" if "enum" in mods else "interface" if kw == "interface" else "object" if kw == "object" else "class"
        d = Decl(name, kind, path)
        i = m.end()
        # type parameters, primary constructor, supertypes, then the body
        if i < len(src) and src[i] == "<":
            i = match(src, i, "<", ">")
        ctor = re.match(r"\s*(?:@\w+\s+)*(?:(?:private|internal|protected|public)\s+)?constructor\b", src[i:])
        if ctor:
            i += ctor.end()
        j = i
        while j < len(src) and src[j] in " \t\n":
            j += 1
        if j < len(src) and src[j] == "(":
            end = match(src, j, "(", ")")
            for p in split_top(src[j + 1 : end - 1]):
                pm = re.match(r"\s*(?P<pre>(?:@\w+\s+)*(?:(?:private|protected|internal|override)\s+)*)(?:val|var)\s+(\w+)", p)
                if pm:
                    d.props[pm.group(2)] = _vis(pm.group("pre"), KT_VIS)
            i = end
        nb = src.find("{", i)
        between = src[i:nb] if nb >= 0 else ""
        has_body = nb >= 0 and (
            between.strip() == ""
            or (between.strip().startswith(":") and not re.search(r"\b(fun|val|var|class|object|interface)\b", between))
        )
        # supertypes: up to the body, or to the end of the line
        sup = between if has_body else src[i : (src.find("\n", i) if src.find("\n", i) >= 0 else len(src))]
        if sup.strip().startswith(":"):
            d.bases = re.findall(r"\b([A-Z]\w*)", re.sub(r"\([^)]*\)", "", sup.strip()[1:]))
        if has_body:
            end = match(src, nb, "{", "}")
            body = src[nb + 1 : end - 1]
            flat = top_level(body)
            if kind == "enum":
                consts = flat.split(";", 1)[0]
                for c in split_top(re.sub(r"\([^)]*\)", "", consts)):
                    c = c.strip()
                    if re.fullmatch(r"[A-Z][A-Z0-9_]*", c):
                        d.cases.append(c)
                flat = flat.split(";", 1)[1] if ";" in flat else ""
            for fm in re.finditer(r"(?m)^[ \t]*(?P<pre>(?:@\w+\s+)*(?:(?:private|protected|internal|override|open|abstract|suspend|inline|operator|const|lateinit)\s+)*)fun\s+(?:<[^>]*>\s*)?(?:(?P<recv>[\w.]+)\.)?(?P<name>\w+)\s*\(", flat):
                if fm.group("recv"):
                    continue
                d.funcs[fm.group("name")] = _vis(fm.group("pre"), KT_VIS)
                d.params[fm.group("name")] = kotlin_params(flat, fm.end() - 1)
            for pm in re.finditer(r"(?m)^[ \t]*(?P<pre>(?:@\w+(?:\([^)]*\))?\s+)*(?:(?:private|protected|internal|override|open|abstract|const|lateinit)\s+)*)(?:val|var)\s+(?P<name>\w+)\s*[:=]", flat):
                d.props[pm.group("name")] = _vis(pm.group("pre"), KT_VIS)
            # companion object members count as the class's own (Swift: static)
            for cm in re.finditer(r"companion\s+object\s*\{", body):
                cend = match(body, cm.end() - 1, "{", "}")
                cflat = top_level(body[cm.end() : cend - 1])
                for fm in re.finditer(r"(?m)^[ \t]*(?P<pre>(?:(?:private|internal|suspend)\s+)*)fun\s+(?P<name>\w+)\s*\(", cflat):
                    d.funcs[fm.group("name")] = _vis(fm.group("pre"), KT_VIS)
                    d.params[fm.group("name")] = kotlin_params(cflat, fm.end() - 1)
                for pm in re.finditer(r"(?m)^[ \t]*(?P<pre>(?:(?:private|internal|const)\s+)*)(?:val|var)\s+(?P<name>\w+)", cflat):
                    d.props[pm.group("name")] = _vis(pm.group("pre"), KT_VIS)
        decls[name] = d
    return decls


def kotlin_toplevel_funcs(path: str) -> dict[str, tuple[str, list[str]]]:
    """Top-level and extension functions: name → (receiver type or '', parameter names)."""
    src = blank(open(path, encoding="utf-8").read(), kotlin=True)
    flat = top_level(src)
    out = {}
    for fm in re.finditer(r"(?m)^(?P<pre>(?:(?:private|internal|suspend|inline)\s+)*)fun\s+(?:<[^>]*>\s*)?(?:(?P<recv>[\w.<>?, *]+?)\.)?(?P<name>\w+)\s*\(", flat):
        if "private" in fm.group("pre") or "internal" in fm.group("pre"):
            continue
        out[fm.group("name")] = ((fm.group("recv") or "").strip(), kotlin_params(flat, fm.end() - 1))
    return out


def swift_decls(path: str) -> dict[str, Decl]:
    src = blank(open(path, encoding="utf-8").read(), kotlin=False)
    decls: dict[str, Decl] = {}
    head = re.compile(
        r"(?m)^(?P<indent>[ \t]*)(?P<mods>(?:@\w+\s+)*(?:(?:public|open|private|fileprivate|internal|final|indirect)\s+)*)"
        r"(?P<kw>struct|enum|class|protocol|actor|extension)\s+(?P<name>[A-Za-z_][\w.]*)"
    )
    for m in head.finditer(src):
        kw, name = m.group("kw"), m.group("name").split(".")[-1]
        nb = src.find("{", m.end())
        if nb < 0:
            continue
        sig = src[m.end() : nb]
        end = match(src, nb, "{", "}")
        flat = top_level(src[nb + 1 : end - 1])
        kind = {"struct": "struct", "enum": "enum", "class": "class", "actor": "class", "protocol": "interface", "extension": "extension"}[kw]
        d = decls.get(name) if kw == "extension" else None
        if d is None:
            d = Decl(name, kind, path)
            if kw != "extension":
                decls[name] = d
            else:
                decls.setdefault("extension " + name, d)
        if ":" in sig:
            d.bases += re.findall(r"\b([A-Z]\w*)", sig.split(":", 1)[1].split("where")[0])
        for cm in re.finditer(r"(?m)^[ \t]*(?:(?:indirect)\s+)?case\s+(?P<list>[^\n]+)", flat):
            for part in split_top(cm.group("list")):
                cn = re.match(r"\s*`?(\w+)`?", part)
                if cn:
                    d.cases.append(cn.group(1))
        for fm in re.finditer(r"(?m)^[ \t]*(?P<pre>(?:@[\w.]+(?:\([^)]*\))?\s+)*(?:(?:public|open|private|fileprivate|internal|override|static|class|final|nonisolated|mutating|convenience|required)\s+|(?:private|fileprivate|internal|public)\(set\)\s+)*)func\s+(?P<name>\w+)\s*(?:<[^>]*>)?\s*\(", flat):
            d.funcs[fm.group("name")] = _vis(fm.group("pre"), SW_VIS)
            d.params[fm.group("name")] = swift_params(flat, fm.end() - 1)
        for pm in re.finditer(r"(?m)^[ \t]*(?P<pre>(?:@[\w.]+(?:\([^)]*\))?\s+)*(?:(?:public|open|private|fileprivate|internal|override|static|class|final|nonisolated|lazy|weak|unowned)\s+|(?:private|fileprivate|internal|public)\(set\)\s+)*)(?:let|var)\s+(?P<name>\w+)", flat):
            d.props[pm.group("name")] = _vis(pm.group("pre"), SW_VIS)
    return decls


def swift_toplevel_funcs(path: str) -> dict[str, tuple[bool, list[str]]]:
    """Top-level functions and functions of extensions: name → (in an extension, parameter names)."""
    src = blank(open(path, encoding="utf-8").read(), kotlin=False)
    flat = top_level(src)
    out = {}
    for m in re.finditer(r"(?m)^(?:(?:public|internal|@\w+)\s+)*func\s+(\w+)\s*(?:<[^>]*>)?\s*\(", flat):
        out[m.group(1)] = (False, swift_params(flat, m.end() - 1))
    # functions declared inside extensions count as well (Kotlin extension functions)
    for m in re.finditer(r"(?m)^(?:(?:public|internal)\s+)*extension\s+[\w.]+[^{]*\{", src):
        end = match(src, m.end() - 1, "{", "}")
        inner = top_level(src[m.end() : end - 1])
        for f in re.finditer(r"(?m)^[ \t]*(?:(?:public|internal|static)\s+)*func\s+(\w+)\s*(?:<[^>]*>)?\s*\(", inner):
            out[f.group(1)] = (True, swift_params(inner, f.end() - 1))
    return out


def lower_camel(upper_snake: str) -> str:
    """`NEEDS_SIGNATURE` → `needsSignature`; other names are returned unchanged."""
    if not re.fullmatch(r"[A-Z][A-Z0-9_]*", upper_snake) or len(upper_snake) < 2:
        return upper_snake
    parts = upper_snake.lower().split("_")
    return parts[0] + "".join(p.capitalize() for p in parts[1:])
