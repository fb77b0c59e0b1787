// More iOS twins of the JVM presenter tests: M&H SWL check, sign-off by role with an addendum,
// and sync on reconnect.
import Foundation
import HomeVisitCore
import HomeVisitKit
@testable import HomeVisitViewModels
import XCTest

@MainActor
final class RiskAndSignOffTests: XCTestCase {
    func testWeightAboveTheLowestSwlShowsMhSwlAndBlocksSigning() async throws {
        let ot = try await createStore(try newStorePath(), identity(.ot))
        let child = try await ot.createChild(givenName: "Mo", familyName: "Ali", dateOfBirth: "2014-07-09")
        let ra = try await ot.createRiskAssessment(childId: child)
        try await fillRiskAssessment(ot, ra)
        let vm = RiskAssessmentViewModel(hv: ot, recordId: ra)
        _ = try await awaitState(vm, "loaded") { !$0.loading }
        XCTAssertTrue(vm.state.canSign)

        // DOMAIN.md §8 vector 22: weight 52.3 kg; hoist 150.0, bar 150.0, sling 50.0.
        await vm.addEquipment(kind: "hoist_mobile", swlKg: "150.0", lastExamOn: day(-30), nextExamDueOn: day(150), integralSpreaderBar: false).value
        let hoist = try XCTUnwrap(vm.lastEquipmentId)
        await vm.addEquipment(kind: "spreader_bar", swlKg: "150.0", lastExamOn: day(-30), nextExamDueOn: day(150)).value
        let bar = try XCTUnwrap(vm.lastEquipmentId)
        await vm.addEquipment(kind: "sling", swlKg: "50.0", lastExamOn: day(-30), nextExamDueOn: day(150)).value
        let sling = try XCTUnwrap(vm.lastEquipmentId)
        await vm.addTask(from: "bed", to: "wheelchair").value
        let task = try XCTUnwrap(vm.lastAddedItemId)
        await vm.setTaskMethod(task, method: "hoist_mobile", carersRequired: 2).value
        await vm.setRating(task, stage: "initial", likelihood: 3, severity: 3).value
        await vm.setRating(task, stage: "residual", likelihood: 2, severity: 3).value
        await vm.addControl(task, kind: "equipment_provided", text: "Mobile hoist and sling").value
        await vm.useEquipment(task, slot: "hoist_id", equipmentId: hoist).value
        await vm.useEquipment(task, slot: "spreader_bar_id", equipmentId: bar).value
        await vm.useEquipment(task, slot: "sling_id", equipmentId: sling).value
        // MH-CARER-TRAINED: a carer trained and found competent on the hoist task.
        await vm.addCarerTraining(task, traineeName: "Sam Carer", traineeRole: .carer, hoistId: hoist, slingId: sling,
                                  trainedBy: "A. Therapist", trainedOn: day(-7), competent: true, reviewDueOn: day(180)).value
        XCTAssertEqual(vm.state.training.count, 1)
        await vm.setWeight("52.3", measuredOn: day(-3)).value
        XCTAssertNil(vm.state.error)

        let row = try XCTUnwrap(vm.state.tasks.first { $0.itemId == task })
        XCTAssertTrue(row.usesHoist)
        XCTAssertEqual(row.swl?.lowestSwlKg, "50.0")
        XCTAssertEqual(row.swl?.lowestKind, "sling")
        XCTAssertEqual(row.swl?.weightKg, "52.3")
        XCTAssertEqual(row.swl?.ruleId, "MH-SWL")
        // The matrix: 3×3 = 9 High initially, 2×3 = 6 Moderate residual (MH-SCORE).
        XCTAssertEqual(row.initial.score, 9)
        XCTAssertEqual(row.initial.band, .high)
        XCTAssertEqual(row.residual.band, .moderate)
        XCTAssertFalse(vm.state.canSign)
        await vm.sign().value
        XCTAssertEqual(vm.state.error?.kind, .validation)
        XCTAssertTrue(vm.state.error?.issues.contains { $0.ruleId == "MH-SWL" } ?? false)
        XCTAssertEqual(vm.state.signState, .draft)

        // 45.0 kg against 50.0: within 10 % → MH-SWL-MARGIN WARN; acknowledged, it signs.
        await vm.setWeight("45.0", measuredOn: day(-3)).value
        XCTAssertEqual(vm.state.tasks.first?.swl?.ruleId, "MH-SWL-MARGIN")
        let warn = try XCTUnwrap(vm.state.swlIssues.first)
        await vm.acknowledge(warn.ruleId, warn.path, reason: "Sling re-rated by the supplier").value
        XCTAssertEqual(vm.state.tasks.first?.swl?.blocking, false)
        XCTAssertTrue(vm.state.canSign, "\(vm.state.issues.filter(\.blocking))")
        await vm.sign().value
        XCTAssertNil(vm.state.error)
        XCTAssertEqual(vm.state.signState, .signed)
        XCTAssertTrue(vm.state.readOnly)
        vm.close()
    }

    func testApSignsOtCountersignsThenChangesGoInAnAddendum() async throws {
        let path = try newStorePath()
        let team = UUID().uuidString.lowercased()
        let ap = try await createStore(path, identity(.ap, team: team))
        let child = try await ap.createChild(givenName: "Lee", familyName: "Brown", dateOfBirth: "2015-02-01")
        let ra = try await ap.createRiskAssessment(childId: child)
        try await fillRiskAssessment(ap, ra)
        let p = SignOffViewModel(hv: ap, recordId: ra)
        _ = try await awaitState(p, "signable") { $0.canSign }
        await p.sign().value
        XCTAssertNil(p.state.error)
        XCTAssertEqual(p.state.signState, .awaitingCountersignature)
        // An AP cannot countersign (RK-COUNTERSIGN): the screen offers nothing and the core refuses.
        XCTAssertFalse(p.state.canCountersign)
        await p.countersign().value
        XCTAssertEqual(p.state.error?.kind, .notPermitted)
        p.close()
        try await ap.closeStore()

        let ot = try await openStore(path, identity(.ot, team: team))
        let q = SignOffViewModel(hv: ot, recordId: ra)
        _ = try await awaitState(q, "awaiting countersignature") { $0.canCountersign }
        await q.countersign().value
        XCTAssertNil(q.state.error)
        XCTAssertEqual(q.state.signState, .countersigned)
        XCTAssertTrue(q.state.canAddAddendum)

        // RK-SIGN-LOCK: a direct edit of the signed record is refused with an offer of an addendum.
        let form = RiskAssessmentViewModel(hv: ot, recordId: ra)
        _ = try await awaitState(form, "read-only") { $0.readOnly }
        await form.setValue("carers_available", "3").value
        XCTAssertEqual(form.state.error?.kind, .signedRecord)
        XCTAssertEqual(form.state.error?.ruleId, "RK-SIGN-LOCK")

        await q.addAddendum("Second carer now available", changes: [AmendmentDraft(path: "carers_available", newValueJson: "3")], reason: "New information").value
        XCTAssertNil(q.state.error)
        let s = try await awaitState(q, "one addendum") { $0.addenda.count == 1 }
        XCTAssertEqual(s.addenda.first?.text, "Second carer now available")
        // RK-AMEND: the effective value is the addendum's.
        await form.load().value
        XCTAssertEqual(form.state.fields.first { $0.path == "carers_available" }?.input, "3")
        form.close()
        q.close()
    }
}

/// Counts the syncs it is asked for (the seam `SyncOnReconnect` drives; the real trigger is
/// `HomeVisit`) and reports the count on streams a test can wait on.
private actor CountingTrigger: SyncTrigger {
    private(set) var reasons: [SyncReason] = []
    private var listeners: [AsyncStream<Int>.Continuation] = []

    func syncNow(reason: SyncReason) async -> SyncOutcome {
        reasons.append(reason)
        listeners.forEach { $0.yield(reasons.count) }
        return .notConfigured
    }

    /// The count now and after every sync (ends when the waiting task is cancelled).
    func counts() -> AsyncStream<Int> {
        AsyncStream { c in
            c.yield(reasons.count)
            listeners.append(c)
        }
    }

    /// Returns once `n` syncs were asked for; cancellable.
    func waitFor(_ n: Int) async {
        for await c in counts() where c >= n { return }
    }
}

final class ReconnectTests: XCTestCase {
    func testGoingOnlineTriggersOneSyncPerReconnect() async throws {
        let connectivity = SettableConnectivity(initial: false)
        let trigger = CountingTrigger()
        let task = SyncOnReconnect(trigger: trigger, connectivity: connectivity).start()
        defer { task.cancel() }
        connectivity.set(true)
        try await within(10, "a sync after going online") { await trigger.waitFor(1) }
        connectivity.set(false)
        connectivity.set(true)
        try await within(10, "a second sync after reconnecting") { await trigger.waitFor(2) }
        let reasons = await trigger.reasons
        XCTAssertEqual(reasons, [.reconnect, .reconnect])
        // PeriodicSync: offline → no sync attempted, retry later.
        connectivity.set(false)
        let ran = await PeriodicSync(trigger: trigger, connectivity: connectivity).runOnce()
        XCTAssertFalse(ran)
        let after = await trigger.reasons
        XCTAssertEqual(after.count, 2)
    }
}
