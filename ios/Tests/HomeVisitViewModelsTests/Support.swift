// Test support: real stores in temporary directories (the core itself, not a double), and a
// bounded wait on a view model's published state instead of sleeps.
// Mirrors android/homevisit/src/test/kotlin/app/homevisit/Support.kt.
import Foundation
import HomeVisitCore
import HomeVisitKit
@testable import HomeVisitViewModels
import XCTest

/// A fixed 32-byte key (tests only; devices use KeychainKeyProvider).
struct TestKey: KeyProvider {
    func storeKey() throws -> Data { Data((0..<32).map { UInt8($0) }) }
}

func identity(_ role: Role, team: String = UUID().uuidString.lowercased(), userId: String = UUID().uuidString.lowercased()) -> Identity {
    Identity(
        userId: userId,
        role: role,
        deviceId: UUID().uuidString.lowercased(),
        teamId: team,
        hcpcNumber: role == .ap ? nil : "OT123456",
        hcpcVerifiedUntil: role == .ap ? nil : "2099-12-31"
    )
}

func newStorePath() throws -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("hv-ios-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    return dir.appendingPathComponent("store.db").path
}

func openStore(_ path: String, _ id: Identity, server: ServerConfig? = nil) async throws -> HomeVisit {
    try await HomeVisit.open(path: path, keys: TestKey(), identity: id, server: server)
}

func createStore(_ path: String, _ id: Identity, server: ServerConfig? = nil) async throws -> HomeVisit {
    try await HomeVisit.create(path: path, keys: TestKey(), identity: id, server: server)
}

struct Timeout: Error, CustomStringConvertible {
    let description: String
}

/// Waits until the view model's state satisfies `condition`, at most `seconds`.
@MainActor
func awaitState<S>(_ vm: ViewModel<S>, _ what: String, seconds: Double = 10, _ condition: @escaping (S) -> Bool) async throws -> S {
    if condition(vm.state) { return vm.state }
    let deadline = Task { try await Task.sleep(nanoseconds: UInt64(seconds * 1_000_000_000)) }
    defer { deadline.cancel() }
    return try await withThrowingTaskGroup(of: S?.self) { group in
        group.addTask { @MainActor in
            for await s in vm.$state.values where condition(s) { return s }
            return nil
        }
        group.addTask {
            try await deadline.value
            return nil
        }
        defer { group.cancelAll() }
        if let first = try await group.next(), let s = first { return s }
        throw Timeout(description: "timed out waiting for \(what); state: \(vm.state)")
    }
}

/// `YYYY-MM-DD` of today in Europe/London plus `days`.
func day(_ days: Int) -> String {
    londonToday(Date().addingTimeInterval(Double(days) * 86_400))
}

/// Fills a risk assessment so that it can be signed (a two-carer task, no hoist).
func fillRiskAssessment(_ hv: HomeVisit, _ ra: String) async throws {
    func put(_ p: String, _ v: FieldValue) async throws { try await hv.setField(recordId: ra, path: p, value: v) }
    try await put("assessment_date", .text(value: day(0)))
    try await put("location", .text(value: "home"))
    try await put("avoidance_considered.decision", .text(value: "not_possible"))
    try await put("avoidance_considered.text", .text(value: "Cannot weight-bear"))
    try await put("child_weight_kg", .decimal(value: "32.4"))
    try await put("child_weight_measured_on", .text(value: day(-10)))
    try await put("carers_available", .integer(value: 2))
    for i in Tileo.items.map(\.code) {
        try await put("tileo.\(i).hazard_present", .text(value: "no"))
    }
    let task = try await hv.addItem(recordId: ra, listPath: "tasks", fieldsJson: #"{"from":"bed","to":"wheelchair"}"#)
    try await put("tasks.\(task).method", .text(value: "two_carers"))
    try await put("tasks.\(task).carers_required", .integer(value: 2))
    try await put("tasks.\(task).initial.likelihood", .integer(value: 2))
    try await put("tasks.\(task).initial.severity", .integer(value: 2))
    try await put("tasks.\(task).residual.likelihood", .integer(value: 1))
    try await put("tasks.\(task).residual.severity", .integer(value: 2))
    _ = try await hv.addItem(recordId: ra, listPath: "tasks.\(task).controls", fieldsJson: #"{"kind":"technique_training","text":"Trained"}"#)
    try await put("review_due_on", .text(value: day(182)))
    try await put("task_stopped_pending_review", .flag(value: false))
    let issues = try await hv.validate(recordId: ra, finalStage: true)
    XCTAssertFalse(issues.contains { $0.severity == .error }, "\(issues)")
    for w in issues {
        try await hv.acknowledge(recordId: ra, ruleId: w.ruleId, path: w.path, reason: "Checked with the family")
    }
}

/// Runs `body`, failing with `Timeout` if it has not finished after `seconds`.
func within(_ seconds: Double, _ what: String, _ body: @escaping @Sendable () async -> Void) async throws {
    try await withThrowingTaskGroup(of: Bool.self) { group in
        group.addTask {
            await body()
            return true
        }
        group.addTask {
            try await Task.sleep(nanoseconds: UInt64(seconds * 1_000_000_000))
            return false
        }
        defer { group.cancelAll() }
        guard let finished = try await group.next(), finished else {
            throw Timeout(description: "timed out waiting for \(what)")
        }
    }
}
