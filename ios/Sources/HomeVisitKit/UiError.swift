// One error value for every screen, converted from the core's typed HomeVisitError
// (docs/API.md "Errors"): the rule ID is kept so the screen can show it.
// Mirrors android/homevisit/src/main/kotlin/app/homevisit/kit/UiError.kt.
import Foundation
import HomeVisitCore

/// What kind of failure, one per thing the app can act on (docs/API.md).
public enum ErrorKind: String, Sendable, Equatable {
    case wrongKey, corrupt, databaseClosed, storeFile, notFound, invalidInput, validation, notPermitted
    case signedRecord, conflict, diskFull, network, unauthorized, revoked, interrupted, internalError
}

/// An error as a screen shows it.
///
/// - `ruleId`: the DOMAIN.md rule the refusal cites (`EQ-ROLE`, `FLD-FORMAT`, `RK-SIGN-LOCK`,
///   `CF-BLOCK`…), when there is one.
/// - `text`: one sentence for the user, starting with `[RULE-ID]` when there is a rule.
/// - `issues`: the blocking issues of a refused sign/submit (`validation`).
/// - `paths`: the conflicting field paths (`conflict`).
public struct UiError: Error, Equatable, Sendable {
    public let kind: ErrorKind
    public let ruleId: String?
    public let text: String
    public let issues: [ValidationIssue]
    public let paths: [String]

    public init(kind: ErrorKind, ruleId: String?, text: String, issues: [ValidationIssue] = [], paths: [String] = []) {
        self.kind = kind
        self.ruleId = ruleId
        self.text = text
        self.issues = issues
        self.paths = paths
    }
}

/// Converts any failure of a library call into a `UiError`; nothing is swallowed.
public func toUiError(_ error: Error) -> UiError {
    if let ui = error as? UiError { return ui }
    guard let e = error as? HomeVisitError else {
        return UiError(kind: .internalError, ruleId: nil, text: "Internal error: \(error)")
    }
    switch e {
    case .WrongKey:
        return UiError(kind: .wrongKey, ruleId: "SAF-DEVICE-LOST", text: "The store key is wrong for this database.")
    case .Corrupt(_, let detail):
        return UiError(kind: .corrupt, ruleId: nil, text: "Damaged data: \(detail)")
    case .DatabaseClosed:
        return UiError(kind: .databaseClosed, ruleId: nil, text: "The store is closed.")
    case .StoreFile(let problem, let path):
        return UiError(kind: .storeFile, ruleId: nil, text: "The store file cannot be used (\(problem)): \(path)")
    case .NotFound(let detail):
        return UiError(kind: .notFound, ruleId: nil, text: "Not found: \(detail)")
    case .InvalidInput(let ruleId, let detail):
        return UiError(kind: .invalidInput, ruleId: ruleId, text: "[\(ruleId)] \(detail)")
    case .Validation(let issues):
        return UiError(
            kind: .validation,
            ruleId: issues.first?.ruleId,
            text: "\(issues.count) issue(s) block this: " + issues.map { $0.detail }.joined(separator: "; "),
            issues: issues
        )
    case .NotPermitted(let ruleId, let detail):
        return UiError(kind: .notPermitted, ruleId: ruleId, text: "[\(ruleId)] \(detail)")
    case .SignedRecord:
        return UiError(
            kind: .signedRecord,
            ruleId: "RK-SIGN-LOCK",
            text: "[RK-SIGN-LOCK] The record is signed; add an addendum instead."
        )
    case .Conflict(let paths):
        return UiError(
            kind: .conflict,
            ruleId: "CF-BLOCK",
            text: "[CF-BLOCK] Resolve the conflict first: \(paths.joined(separator: ", "))",
            paths: paths
        )
    case .DiskFull:
        return UiError(kind: .diskFull, ruleId: nil, text: "The device storage is full; nothing was saved.")
    case .Network(let detail):
        return UiError(kind: .network, ruleId: nil, text: "Network: \(detail)")
    case .Unauthorized:
        return UiError(kind: .unauthorized, ruleId: nil, text: "The server did not accept this device. Sign in again.")
    case .Revoked:
        return UiError(kind: .revoked, ruleId: "SAF-DEVICE-LOST", text: "This device was revoked; its data was wiped.")
    case .Interrupted:
        return UiError(kind: .interrupted, ruleId: nil, text: "Interrupted.")
    case .Internal(let detail):
        return UiError(kind: .internalError, ruleId: nil, text: "Internal error: \(detail)")
    }
}
