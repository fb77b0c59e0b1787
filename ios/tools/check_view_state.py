"""Fails if a SwiftUI view reads state or calls an event its view model does not have.

No Swift compiler runs here, so this is the check that stands in for the type checker on the
part that drifts when the view models follow the Kotlin presenters:

- each view holding `@StateObject` / `@ObservedObject var NAME: XViewModel` may read only
  `NAME.state.FIELD` where FIELD is a property of the view model's state struct (stored or
  computed), and call only `NAME.EVENT(…)` where EVENT is a non-private method of the view model
  or of its base classes (`ViewModel`, `RecordFormViewModel`);
- inside a view struct, a property `let NAME: T` whose type T is a struct of the view-model
  package (`CaseloadRow`, `FieldRow`, `IssueRow`…) may read only T's properties.

Usage: python3 ios/tools/check_view_state.py [repo root]
"""
from __future__ import annotations

import glob
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from decls import blank, match, swift_decls  # noqa: E402

VIEWMODEL_DIR = "ios/Sources/HomeVisitViewModels"
KIT_DIR = "ios/Sources/HomeVisitKit"
APP_DIR = "ios/App"


def main(root: str) -> int:
    types = {}
    for f in sorted(glob.glob(os.path.join(root, VIEWMODEL_DIR, "*.swift")) + glob.glob(os.path.join(root, KIT_DIR, "*.swift"))):
        for name, d in swift_decls(f).items():
            if name in types:
                types[name].props.update(d.props)
                types[name].funcs.update(d.funcs)
            else:
                types[name] = d
    # view model → its state struct, and the methods it has with its bases
    state_of, events_of = {}, {}
    for name, d in types.items():
        if d.kind != "class" or not name.endswith("ViewModel"):
            continue
        src = blank(open(d.file, encoding="utf-8").read(), kotlin=False)
        m = re.search(r"class\s+" + name + r"\s*(?:<[^>]*>)?\s*:\s*(\w+)<(\w+)>", src)
        if not m:
            continue
        state_of[name] = m.group(2) if m.group(2) in types else None
        events = {f for f, v in d.funcs.items() if v not in ("private", "fileprivate")}
        props = {p for p, v in d.props.items() if v not in ("private", "fileprivate")}
        base = m.group(1)
        while base in types:
            events |= {f for f, v in types[base].funcs.items() if v not in ("private", "fileprivate")}
            props |= {p for p, v in types[base].props.items() if v not in ("private", "fileprivate")}
            bm = re.search(r"class\s+" + base + r"\s*<[^>]*>\s*:\s*(\w+)<", blank(open(types[base].file, encoding="utf-8").read(), kotlin=False))
            base = bm.group(1) if bm else None
        events_of[name] = (events, props)

    views = sorted(glob.glob(os.path.join(root, APP_DIR, "**", "*.swift"), recursive=True))
    problems, refs = [], 0
    for f in views:
        rel = os.path.relpath(f, root)
        src = blank(open(f, encoding="utf-8").read(), kotlin=False)
        line_of = lambda i: src.count("\n", 0, i) + 1  # noqa: E731
        for om in re.finditer(r"@(?:StateObject|ObservedObject)\s+(?:private\s+)?var\s+(\w+)\s*:\s*(\w+)", src):
            var, vm = om.group(1), om.group(2)
            if vm not in events_of:
                problems.append(f"{rel}:{line_of(om.start())}: {vm} is not a view model of {VIEWMODEL_DIR}")
                continue
            state = types.get(state_of.get(vm) or "")
            events, props = events_of[vm]
            for r in re.finditer(r"\b" + var + r"\.state\.(\w+)", src):
                refs += 1
                if state is None or r.group(1) not in state.props:
                    problems.append(f"{rel}:{line_of(r.start())}: {vm} state has no `{r.group(1)}`")
            for r in re.finditer(r"\b" + var + r"\.(?!state\b)(\w+)", src):
                refs += 1
                if r.group(1) not in events and r.group(1) not in props:
                    problems.append(f"{rel}:{line_of(r.start())}: {vm} has no event or property `{r.group(1)}`")
        # typed properties of view structs
        for sm in re.finditer(r"(?m)^\s*(?:private\s+|fileprivate\s+)?struct\s+(\w+)\s*:\s*View\s*\{", src):
            end = match(src, sm.end() - 1, "{", "}")
            body = src[sm.end() : end]
            for pm in re.finditer(r"(?m)^\s*(?:let|var)\s+(\w+)\s*:\s*(\w+)\??\s*$", body):
                var, typ = pm.group(1), pm.group(2)
                t = types.get(typ)
                if t is None or t.kind != "struct":
                    continue
                for r in re.finditer(r"(?<![\w.])" + var + r"\.(\w+)", body):
                    refs += 1
                    if r.group(1) not in t.props and r.group(1) not in t.funcs:
                        problems.append(f"{rel}:{line_of(sm.end() + r.start())}: {typ} has no `{r.group(1)}` ({var}.{r.group(1)})")
    for p in problems:
        print("UNKNOWN", p)
    print(f"view state: {len(views)} view file(s), {len(events_of)} view model(s), {refs} reference(s), {len(problems)} unknown")
    return 1 if problems or refs == 0 else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")))
