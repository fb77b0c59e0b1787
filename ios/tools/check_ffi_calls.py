"""Fails if the iOS Swift calls something the generated bindings do not declare.

The Swift layer (ios/Sources, ios/App) is only parsed here, never compiled (TOOLCHAIN.md §6);
this checks the seam where it meets the generated `HomeVisitCore.swift`:

- every `Store` method the facade calls (`try $0.setField(recordId:path:value:)` in
  ios/Sources/HomeVisitKit/HomeVisit.swift) exists with the same argument labels;
- every top-level binding function called (`measurementSpecs()`, `riskScore(likelihood:severity:)`)
  exists with those labels;
- every `HomeVisitError` case the kit matches (`case .NotPermitted(…)`) exists, and the switch
  names them all;
- every case written `Type.name` on a generated enum (`SignState`, `Role`, `Severity`,
  `SyncStatus`, `Service`) exists, and those enums and `FieldValue` have exactly the cases the
  Swift layer's switches name.

Usage: python3 ios/tools/check_ffi_calls.py GENERATED_SWIFT [repo root]
"""
from __future__ import annotations

import glob
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from decls import blank, match  # noqa: E402


def labels(params: str) -> list[str]:
    """Argument labels of a Swift parameter list (`_` for unlabelled)."""
    out, depth, cur = [], 0, ""
    for ch in params + ",":
        if ch in "([<":
            depth += 1
        elif ch in ")]>":
            depth -= 1
        if ch == "," and depth == 0:
            p = cur.strip()
            if p:
                names = p.split(":", 1)[0].split()
                out.append(names[0])
            cur = ""
        else:
            cur += ch
    return out


def call_labels(args: str) -> list[str]:
    out, depth, cur = [], 0, ""
    for ch in args + ",":
        if ch in "([{<":
            depth += 1
        elif ch in ")]}>":
            depth -= 1
        if ch == "," and depth == 0:
            m = re.match(r"\s*(\w+)\s*:(?!:)", cur)
            if cur.strip():
                out.append(m.group(1) if m else "_")
            cur = ""
        else:
            cur += ch
    return out


def main(generated: str, root: str) -> int:
    gen = blank(open(generated, encoding="utf-8").read(), kotlin=False)
    # methods of `open class Store` (uniffi: `open class Store: StoreProtocol, …`)
    sm = re.search(r"open class Store\b[^{]*\{", gen)
    store_methods: dict[str, set[tuple[str, ...]]] = {}
    if sm:
        body = gen[sm.end() : match(gen, sm.end() - 1, "{", "}")]
        for m in re.finditer(r"(?:open|public)\s+(?:static\s+)?func\s+`?(\w+)`?\s*\(", body):
            end = match(body, m.end() - 1, "(", ")")
            store_methods.setdefault(m.group(1), set()).add(tuple(labels(body[m.end() : end - 1])))
    top: dict[str, set[tuple[str, ...]]] = {}
    for m in re.finditer(r"(?m)^public\s+func\s+`?(\w+)`?\s*\(", gen):
        end = match(gen, m.end() - 1, "(", ")")
        top.setdefault(m.group(1), set()).add(tuple(labels(gen[m.end() : end - 1])))
    enums: dict[str, set[str]] = {}
    for m in re.finditer(r"(?m)^public\s+enum\s+(\w+)\s*[:{]", gen):
        nb = gen.find("{", m.end() - 1)
        body = gen[nb + 1 : match(gen, nb, "{", "}") - 1]
        flat = re.sub(r"\{[^{}]*\}", "", body)
        enums[m.group(1)] = {c.group(1) for c in re.finditer(r"(?m)^\s*case\s+`?(\w+)`?", flat)}

    problems, checked = [], 0
    if not store_methods:
        problems.append(f"{generated}: no `open class Store` found")
    swift_files = sorted(
        glob.glob(os.path.join(root, "ios/Sources/**/*.swift"), recursive=True)
        + glob.glob(os.path.join(root, "ios/App/**/*.swift"), recursive=True)
    )
    swift_files = [f for f in swift_files if not f.endswith("HomeVisitCore/HomeVisitCore.swift")]
    for f in swift_files:
        rel = os.path.relpath(f, root)
        src = blank(open(f, encoding="utf-8").read(), kotlin=False)
        line = lambda i: src.count("\n", 0, i) + 1  # noqa: E731
        # Store calls inside the facade's io { … } / executor closures: `$0.name(` and `store.name(`
        for m in re.finditer(r"(?:\$0|\bstore)\.(\w+)\s*\(", src):
            if "HomeVisitKit" not in f:
                continue
            name = m.group(1)
            end = match(src, m.end() - 1, "(", ")")
            got = tuple(call_labels(src[m.end() : end - 1]))
            checked += 1
            if name not in store_methods:
                problems.append(f"{rel}:{line(m.start())}: Store has no method {name}")
            elif got not in store_methods[name]:
                problems.append(f"{rel}:{line(m.start())}: Store.{name}({':'.join(got)}:) — generated labels are {sorted(store_methods[name])}")
        # constructors
        for m in re.finditer(r"\b(Store\.open|Store\.openUnencryptedForTests|Store\.create|Store\.createUnencryptedForTests|SyncClient)\s*\(", src):
            checked += 1
            name = m.group(1).split(".")[-1]
            end = match(src, m.end() - 1, "(", ")")
            got = tuple(call_labels(src[m.end() : end - 1]))
            if name == "SyncClient":
                if not re.search(r"public convenience init\(store: Store, url: String, token: String\)", gen):
                    problems.append(f"{rel}:{line(m.start())}: SyncClient(store:url:token:) is not generated")
            elif got not in store_methods.get(name, set()):
                problems.append(f"{rel}:{line(m.start())}: Store.{name}({':'.join(got)}:) not generated")
        # top-level binding functions
        for name in top:
            for m in re.finditer(r"(?<![\w.])" + name + r"\s*\(", src):
                if re.search(r"func\s+$", src[max(0, m.start() - 6) : m.start()]):
                    continue
                checked += 1
                end = match(src, m.end() - 1, "(", ")")
                got = tuple(call_labels(src[m.end() : end - 1]))
                if got not in top[name]:
                    problems.append(f"{rel}:{line(m.start())}: {name}({':'.join(got)}:) — generated labels are {sorted(top[name])}")
        # HomeVisitError cases in the kit's switch
        for m in re.finditer(r"switch\s+e\s*\{", src):
            end = match(src, m.end() - 1, "{", "}")
            body = src[m.end() : end]
            cases = re.findall(r"case\s+\.(\w+)", body)
            for c in cases:
                checked += 1
                if c not in enums.get("HomeVisitError", set()):
                    problems.append(f"{rel}:{line(m.start())}: HomeVisitError has no case {c}")
            for c in sorted(enums.get("HomeVisitError", set()) - set(cases)):
                problems.append(f"{rel}:{line(m.start())}: switch misses HomeVisitError.{c}")
    # binding functions the layer relies on must be generated at all
    for name in ("measurementSpecs", "riskScore"):
        checked += 1
        if name not in top:
            problems.append(f"{generated}: binding function {name} is not generated")
    # enum cases used with an explicit type: `SignState.draft`, `Role.ap`, `.tag(Service.health)`
    for f in swift_files:
        rel = os.path.relpath(f, root)
        src = blank(open(f, encoding="utf-8").read(), kotlin=False)
        for typ in ("SignState", "Role", "Severity", "SyncStatus", "Service"):
            for m in re.finditer(r"\b" + typ + r"\.(\w+)\b", src):
                checked += 1
                if m.group(1) not in enums.get(typ, set()) and m.group(1) not in ("self", "allCases"):
                    problems.append(f"{rel}:{src.count(chr(10), 0, m.start()) + 1}: {typ} has no case {m.group(1)}")
    # every generated enum the kit switches over exhaustively by value names (.draft, .ap …)
    expected = {
        "SignState": {"draft", "signed", "awaitingCountersignature", "countersigned", "enteredInError"},
        "Role": {"ap", "ot", "approver", "system"},
        "Severity": {"warn", "error"},
        "SyncStatus": {"localOnly", "pending", "synced", "conflict"},
        "Service": {"health", "socialCare"},
        "FieldValue": {"text", "integer", "decimal", "flag", "empty"},
    }
    for typ, cases in expected.items():
        checked += 1
        if enums.get(typ) != cases:
            problems.append(f"{generated}: enum {typ} cases {sorted(enums.get(typ, set()))}, the Swift layer uses {sorted(cases)}")
    for p in problems:
        print("FFI", p)
    print(f"ffi calls: {len(swift_files)} Swift file(s), {len(store_methods)} Store method(s) generated, {checked} use(s) checked, {len(problems)} problem(s)")
    return 1 if problems or checked == 0 else 0


if __name__ == "__main__":
    if len(sys.argv) < 2:
        print(__doc__)
        sys.exit(2)
    sys.exit(main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")))
