#!/usr/bin/env python3
"""Lists every `String` the exported API carries, from the generated Kotlin, and compares the
list with bindings/string-api.txt, where each one is classified: an id, a date or instant, a
rule ID, a field path, free text, a code of one field's own list, or a code still waiting for
its enum.

Fails when the generated API has a `String` the file does not list (a new parameter or field
must be classified: a closed code list is an enum, not a string) or the file lists one that no
longer exists. Prints the count per class, so the codes still to type are visible in CI.

Usage: string_api_check.py GENERATED_KOTLIN LIST_FILE
"""
import re
import sys

KINDS = {"id", "date", "instant", "rule", "path", "text", "json", "fieldcode", "code"}


PARAM = re.compile(r"`(\w+)`: ((?:[\w.]+)(?:<[^>]*>)?\??)")
CONTAINER = re.compile(r"^(?:public |open |data |sealed )*(?:class|interface|object) (\w+?)(?:Interface)?\b")


def members(source: str):
    """(key, type) for each String parameter, return value and record field."""
    out = []
    container = None
    for line in source.splitlines():
        c = CONTAINER.match(line)
        if c:
            container = c.group(1)
        top_level = line.startswith("fun `") or line.lstrip().startswith("*/ fun `")
        f = re.search(r"(?<!override )\bfun `(\w+)`\((.*?)\)(?:\s*:\s*([^{=]+))?", line)
        k = re.search(r"\bconstructor\((`.*?)\)", line)
        if f and (top_level or (container and not line.lstrip().startswith("override"))):
            owner = "" if top_level else f"{container}."
            name, params, ret = f.group(1), f.group(2), (f.group(3) or "").strip()
            for p in PARAM.finditer(params):
                if "kotlin.String" in p.group(2):
                    out.append((f"{owner}{name}({p.group(1)})", p.group(2)))
            if "kotlin.String" in ret:
                out.append((f"{owner}{name} ->", ret))
        elif k and container:
            for p in PARAM.finditer(k.group(1)):
                if "kotlin.String" in p.group(2):
                    out.append((f"{container}.constructor({p.group(1)})", p.group(2)))
    # Records: `data class X (\n var `field`: kotlin.String …`
    for m in re.finditer(r"^data class (\w+) \((.*?)\n\)", source, re.M | re.S):
        rec, body = m.group(1), m.group(2)
        for v in re.finditer(r"va[rl] `(\w+)`: ([^\n=]+)", body):
            if "kotlin.String" in v.group(2):
                out.append((f"{rec}.{v.group(1)}", v.group(2).strip()))
    # Error and enum cases with fields: `class X(\n val `field`: kotlin.String`
    for m in re.finditer(r"class (\w+)\(\s*((?:\n\s*(?:/\*\*.*?\*/\s*)?val `\w+`: [^\n]+)+)", source, re.S):
        case, body = m.group(1), m.group(2)
        for v in PARAM.finditer(body):
            if "kotlin.String" in v.group(2):
                out.append((f"{case}.{v.group(1)}", v.group(2)))
    return sorted(set(out))


def main() -> int:
    gen, listing = sys.argv[1], sys.argv[2]
    found = {k for k, _ in members(open(gen, encoding="utf-8").read())}
    listed = {}
    for n, line in enumerate(open(listing, encoding="utf-8"), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        parts = line.split()
        if len(parts) < 2 or parts[-1] not in KINDS:
            print(f"{listing}:{n}: `<member> <kind>` with kind one of {sorted(KINDS)}")
            return 1
        listed[" ".join(parts[:-1])] = parts[-1]
    new = sorted(found - listed.keys())
    gone = sorted(listed.keys() - found)
    for k in new:
        print(f"new String in the exported API: {k} (classify it in {listing}; a code list is an enum)")
    for k in gone:
        print(f"listed but no longer exported: {k} (remove it from {listing})")
    counts = {}
    for k in found & listed.keys():
        counts[listed[k]] = counts.get(listed[k], 0) + 1
    summary = ", ".join(f"{kind} {counts[kind]}" for kind in sorted(counts))
    print(f"string api: {len(found)} String member(s): {summary}")
    return 1 if new or gone else 0


if __name__ == "__main__":
    sys.exit(main())
