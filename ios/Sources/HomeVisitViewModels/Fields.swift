// Form fields: what a field is (path, label, kind, codes) and how a typed string becomes the
// core's FieldValue. Units follow DOMAIN.md §1.1: kg and cm typed with one decimal and stored
// in tenths, every other length in whole mm.
// Mirrors android/homevisit/src/main/kotlin/app/homevisit/presenters/Fields.kt.
import Foundation
import HomeVisitCore
import HomeVisitKit

/// How a field is entered.
public enum FieldKind: String, Sendable, Equatable {
    /// A short string (names, references).
    case text
    /// Free text that merges character by character (`CF-TEXT`): notes, concerns, views.
    case longText
    /// A whole number in the field's unit (mm, degrees, count).
    case integer
    /// kg or cm with at most one decimal (stored in tenths).
    case decimal
    /// `YYYY-MM-DD`.
    case date
    /// `HH:MM`.
    case time
    /// One code of `FieldSpec.options`.
    case code
    /// Yes/no.
    case flag
    /// A set of codes of `FieldSpec.options` (`CF-SET`), toggled one at a time.
    case codeSet
}

/// A field of a form: its document path (docs/DOCUMENT-LAYOUT.md), label, kind and codes.
public struct FieldSpec: Equatable, Sendable {
    public let path: String
    public let label: String
    public let kind: FieldKind
    public let options: [String]
    public let unit: String?

    public init(path: String, label: String, kind: FieldKind, options: [String] = [], unit: String? = nil) {
        self.path = path
        self.label = label
        self.kind = kind
        self.options = options
        self.unit = unit
    }
}

/// A field as the screen shows it.
///
/// - `input`: the value as the user would type it (`32.4` for 324 tenths of a kg; codes
///   comma-separated for a set; `true`/`false` for a flag; empty when unset).
/// - `display`: the value for reading (`32.4 kg`, `—` when unset).
/// - `selected`: the codes of a `.codeSet` field.
/// - `issues`: the field's validation issues with their rule IDs.
/// - `inConflict`: the field has concurrent values to resolve (`CF-CLINICAL`).
public struct FieldRow: Equatable, Sendable {
    public let path: String
    public let label: String
    public let kind: FieldKind
    public let options: [String]
    public let unit: String?
    public let input: String
    public let display: String
    public let selected: [String]
    public let issues: [IssueRow]
    public let inConflict: Bool

    /// The worst issue's severity text for a badge: `ERROR`, `WARN` or empty.
    public var badge: String {
        if issues.contains(where: { $0.isError }) { return "ERROR" }
        if issues.contains(where: { $0.blocking }) { return "WARN" }
        return ""
    }
}

/// The row of `spec` in a record's `content`.
public func fieldRow(_ spec: FieldSpec, _ content: [String: JsonValue], _ issues: [IssueRow], _ conflictPaths: Set<String>) -> FieldRow {
    let raw = Json.at(content, spec.path)
    var selected: [String] = []
    if spec.kind == .codeSet, let m = raw?.objectValue {
        selected = m.filter { $0.value == .bool(true) }.map(\.key).sorted()
    }
    let unitSuffix = spec.unit.map { " \($0)" } ?? ""
    let input: String
    switch raw {
    case nil:
        input = ""
    case .int(let v)? where spec.kind == .decimal:
        input = tenthsText(v)
    case _ where spec.kind == .codeSet:
        input = selected.joined(separator: ",")
    case .object?, .array?:
        input = ""
    case .string(let s)?:
        input = s
    case .int(let v)?:
        input = String(v)
    case .bool(let b)?:
        input = b ? "true" : "false"
    case .double(let d)?:
        input = String(d)
    case .null?:
        input = ""
    }
    let display: String
    switch raw {
    case _ where spec.kind == .codeSet:
        display = selected.isEmpty ? "—" : selected.joined(separator: ", ")
    case .int(let v)? where spec.kind == .decimal:
        display = tenthsText(v) + unitSuffix
    case .int(let v)? where spec.kind == .integer:
        display = String(v) + unitSuffix
    default:
        display = displayValue(spec.path, raw)
    }
    return FieldRow(
        path: spec.path,
        label: spec.label,
        kind: spec.kind,
        options: spec.options,
        unit: spec.unit,
        input: input,
        display: display,
        selected: selected,
        issues: issues.under(spec.path),
        inConflict: conflictPaths.contains { $0 == spec.path || $0.hasPrefix(spec.path + ".") }
    )
}

/// Why a typed string cannot be sent (letters in a number): `FLD-FORMAT`.
public struct InputFormatError: Error, Equatable {
    public let ruleId: String
    public let text: String
}

/// The core value of a typed string for `kind`; blank clears the field.
public func fieldValueOf(_ kind: FieldKind, _ input: String) throws -> FieldValue {
    let t = input.trimmingCharacters(in: .whitespacesAndNewlines)
    if t.isEmpty { return .empty }
    switch kind {
    case .integer:
        guard let n = Int64(t) else { throw InputFormatError(ruleId: "FLD-FORMAT", text: "`\(t)` is not a whole number") }
        return .integer(value: n)
    case .decimal:
        return .decimal(value: t)
    case .flag:
        switch t.lowercased() {
        case "true", "yes", "y": return .flag(value: true)
        case "false", "no", "n": return .flag(value: false)
        default: throw InputFormatError(ruleId: "FLD-FORMAT", text: "`\(t)` is not yes or no")
        }
    case .text, .longText, .date, .time, .code, .codeSet:
        return .text(value: t)
    }
}

extension HomeVisit {
    /// Writes a typed value to a record field: free text by splicing, others as values.
    public func write(recordId: String, spec: FieldSpec, input: String) async throws {
        switch spec.kind {
        case .longText:
            try await setText(recordId: recordId, path: spec.path, text: input)
        case .codeSet:
            throw InputFormatError(ruleId: "FLD-FORMAT", text: "toggle the codes of \(spec.label) one at a time")
        default:
            try await setField(recordId: recordId, path: spec.path, value: try fieldValueOf(spec.kind, input))
        }
    }

    /// Reads a record with its final-stage issues, WARNs marked acknowledged (`FLD-ACK`).
    public func snapshot(recordId: String) async throws -> RecordSnapshot {
        let view = try await view(recordId: recordId)
        let all = try await validate(recordId: recordId, finalStage: true)
        let blocking = try await blockingIssues(recordId: recordId)
        return RecordSnapshot(view: view, content: try Json.parseObject(view.contentJson), issues: issueRows(all, blocking))
    }
}

/// A record read for a form: its view, parsed content and issues (what sign/submit needs).
public struct RecordSnapshot: Equatable {
    public let view: RecordView
    public let content: [String: JsonValue]
    public let issues: [IssueRow]

    /// Paths with open conflicts (`CF-CLINICAL`).
    public var conflictPaths: Set<String> { Set(view.conflicts.map(\.path)) }
    /// What blocks sign/submit now.
    public var blockers: [IssueRow] { issues.filter(\.blocking) }
}

/// The live (not removed) items of an item list, in added order (docs/DOCUMENT-LAYOUT.md).
public func liveItems(_ content: [String: JsonValue], _ listPath: String) -> [[String: JsonValue]] {
    guard let m = Json.at(content, listPath)?.objectValue else { return [] }
    return m.values.compactMap(\.objectValue)
        .filter { ($0["removed_at"] ?? .null).isNull }
        .sorted {
            let a = ($0["added_at"]?.stringValue ?? "", $0["item_id"]?.stringValue ?? "")
            let b = ($1["added_at"]?.stringValue ?? "", $1["item_id"]?.stringValue ?? "")
            return a < b
        }
}
