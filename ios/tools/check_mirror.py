"""Fails if the Swift view models / kit miss a state field, event or case of their Kotlin twins.

The Android presenters (android/homevisit/src/main/kotlin/app/homevisit/presenters) and the
Kotlin kit (…/app/homevisit/kit) are JVM-tested; the iOS view models
(ios/Sources/HomeVisitViewModels) and kit (ios/Sources/HomeVisitKit) mirror them so both apps
behave the same. Name mapping (ios/README.md, "Mirror of the Android presenters"):

- `XPresenter` → `XViewModel`; every other type keeps its name (`CaseloadState`, `IssueRow`…),
  except `JsonException` → `JsonError` and `InputFormatException` → `InputFormatError`
  (Swift errors are not exceptions).
- properties and functions keep their names (both languages use lowerCamelCase); Kotlin
  `companion object` / `object` members are Swift `static` members.
- enum constants and constant vals in UPPER_SNAKE_CASE become lowerCamelCase (`NEEDS_SIGNATURE`
  → `needsSignature`, `FIELDS` → `fields`); `ErrorKind.INTERNAL` is `internalError` (`internal`
  is a Swift keyword).
- the subclasses of a Kotlin sealed interface are the cases of the Swift enum of that name
  (`SyncOutcome.Done` → `SyncOutcome.done`).
- top-level and extension functions keep their names.
- functions take the same parameters in the same order (Swift's internal parameter names),
  leaving out Kotlin's `CoroutineScope` / `CoroutineDispatcher` parameters (Swift's tasks and
  main actor take their place); a Kotlin extension function may be a Swift top-level function
  taking the receiver first (`Throwable.toUiError()` → `toUiError(_ error:)`).

Private, protected, internal and override members are implementation, not contract, and are
not compared. The JVM tests and XCTests that ios/README.md's mirror table names must exist. Usage: python3 ios/tools/check_mirror.py [repo root]
"""
from __future__ import annotations

import glob
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from decls import (  # noqa: E402
    kotlin_decls,
    kotlin_toplevel_funcs,
    lower_camel,
    swift_decls,
    swift_toplevel_funcs,
)

KOTLIN_DIRS = [
    "android/homevisit/src/main/kotlin/app/homevisit/presenters",
    "android/homevisit/src/main/kotlin/app/homevisit/kit",
]
SWIFT_DIRS = ["ios/Sources/HomeVisitViewModels", "ios/Sources/HomeVisitKit"]
TYPE_ALIASES = {"JsonException": "JsonError", "InputFormatException": "InputFormatError"}
CASE_ALIASES = {("ErrorKind", "INTERNAL"): "internalError"}
# Kotlin members that exist only because of the JVM / Kotlin data classes.
KOTLIN_ONLY = {"copy", "equals", "hashCode", "toString", "component1"}


def swift_type_name(kotlin_name: str) -> str:
    if kotlin_name in TYPE_ALIASES:
        return TYPE_ALIASES[kotlin_name]
    if kotlin_name.endswith("Presenter"):
        return kotlin_name[: -len("Presenter")] + "ViewModel"
    return kotlin_name


def lower_first(s: str) -> str:
    return s[:1].lower() + s[1:]


def main(root: str) -> int:
    kt_files = sorted(f for d in KOTLIN_DIRS for f in glob.glob(os.path.join(root, d, "*.kt")))
    sw_files = sorted(f for d in SWIFT_DIRS for f in glob.glob(os.path.join(root, d, "*.swift")))
    if not kt_files:
        print(f"mirror: no Kotlin presenters under {KOTLIN_DIRS[0]}")
        return 1
    kt = {}
    for f in kt_files:
        kt.update(kotlin_decls(f))
    sw = {}
    for f in sw_files:
        for name, d in swift_decls(f).items():
            if name in sw:  # the same type split over files (extensions)
                sw[name].props.update(d.props)
                sw[name].funcs.update(d.funcs)
                sw[name].cases += d.cases
            else:
                sw[name] = d
    sw_top = {}
    for f in sw_files:
        sw_top.update(swift_toplevel_funcs(f))

    missing: list[str] = []
    checked = 0
    pairs = []
    for name, k in sorted(kt.items()):
        if k.kind == "interface" and not k.props and not k.funcs:
            continue
        sname = swift_type_name(name)
        s = sw.get(sname)
        rel = os.path.relpath(k.file, root)
        if s is None:
            # a subclass of a sealed interface: a case of the Swift enum of the parent's name
            parent = next((b for b in k.bases if b in sw and sw[b].kind == "enum"), None)
            if parent and lower_first(name) in sw[parent].cases:
                checked += 1
                continue
            missing.append(f"{rel}: type {name} has no Swift twin {sname}")
            continue
        pairs.append((name, sname))
        for p, vis in k.props.items():
            if vis != "public" or p in KOTLIN_ONLY:
                continue
            checked += 1
            want = lower_camel(p)
            if want not in s.props or s.props[want] in ("private", "fileprivate"):
                missing.append(f"{rel}: {name}.{p} → {sname}.{want} missing")
        for fn, vis in k.funcs.items():
            if vis != "public" or fn in KOTLIN_ONLY:
                continue
            checked += 1
            if fn not in s.funcs or s.funcs[fn] in ("private", "fileprivate"):
                missing.append(f"{rel}: {name}.{fn}() → {sname}.{fn} missing")
            elif k.params.get(fn) != s.params.get(fn):
                missing.append(f"{rel}: {name}.{fn}({', '.join(k.params.get(fn, []))}) → {sname}.{fn} takes ({', '.join(s.params.get(fn, []))})")
        for c in k.cases:
            checked += 1
            want = CASE_ALIASES.get((name, c), lower_camel(c))
            if want not in s.cases:
                missing.append(f"{rel}: {name}.{c} → case {sname}.{want} missing")
    for f in kt_files:
        for fn, (recv, kparams) in kotlin_toplevel_funcs(f).items():
            checked += 1
            where = f"{recv}." if recv else ""
            if fn not in sw_top:
                missing.append(f"{os.path.relpath(f, root)}: fun {where}{fn} has no Swift func {fn}")
                continue
            in_extension, sparams = sw_top[fn]
            # a Kotlin extension function may be a Swift top-level function taking the receiver first
            if recv and not in_extension:
                sparams = sparams[1:]
            if kparams != sparams:
                missing.append(f"{os.path.relpath(f, root)}: fun {where}{fn}({', '.join(kparams)}) → Swift {fn} takes ({', '.join(sparams)})")

    # The README's table names JVM tests and their XCTest twins: each must exist.
    readme = os.path.join(root, "ios/README.md")
    if os.path.exists(readme):
        text = open(readme, encoding="utf-8").read()
        kt_tests = os.path.join(root, "android/homevisit/src/test/kotlin/app/homevisit")
        for cls, fn in sorted(set(re.findall(r"`(\w+Test)\.(\w+)`", text))):
            checked += 1
            f = os.path.join(kt_tests, cls + ".kt")
            if not os.path.exists(f) or not re.search(r"\bfun\s+" + fn + r"\s*\(", open(f, encoding="utf-8").read()):
                missing.append(f"ios/README.md names JVM test {cls}.{fn}, which does not exist")
        swift_tests = "".join(open(f, encoding="utf-8").read() for f in glob.glob(os.path.join(root, "ios/Tests/**/*.swift"), recursive=True))
        for cls, fn in sorted(set(re.findall(r"`(\w+Tests)\.(test\w+)`", text))):
            checked += 1
            if not re.search(r"class\s+" + cls + r"\b", swift_tests) or not re.search(r"\bfunc\s+" + fn + r"\s*\(", swift_tests):
                missing.append(f"ios/README.md names XCTest {cls}.{fn}, which does not exist")

    for m in missing:
        print("MISSING", m)
    print(f"mirror: {len(kt_files)} Kotlin file(s), {len(pairs)} type pair(s), {checked} member(s) checked, {len(missing)} missing")
    return 1 if missing or checked == 0 else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")))
