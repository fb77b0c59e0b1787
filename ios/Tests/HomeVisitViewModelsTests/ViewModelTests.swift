// The iOS twins of the JVM-tested Kotlin presenter tests (same names, same scenarios, the real
// core underneath). They run on a Mac: `xcodebuild test` on an iOS simulator (ios/README.md).
import Foundation
import HomeVisitCore
import HomeVisitKit
@testable import HomeVisitViewModels
import XCTest

@MainActor
final class CaseloadAndChildTests: XCTestCase {
    func testCaseloadSearchesByNameAndNhsNumberAndFiltersFormsAwaitingSignature() async throws {
        let ap = try await createStore(try newStorePath(), identity(.ap))
        let amira = try await ap.createChild(givenName: "Amira", familyName: "Okafor", dateOfBirth: "2016-05-14")
        try await ap.setField(recordId: amira, path: "nhs_number", value: .text(value: "9434765919"))
        _ = try await ap.createChild(givenName: "Sam", familyName: "Jones", dateOfBirth: "2012-01-20")
        _ = try await ap.createChild(givenName: "Lee", familyName: "Brown", dateOfBirth: "2015-02-01")
        let vm = CaseloadViewModel(hv: ap)
        let all = try await awaitState(vm, "three children") { $0.rows.count == 3 && !$0.loading }
        XCTAssertEqual(all.rows.map(\.name), ["Lee Brown", "Sam Jones", "Amira Okafor"])
        XCTAssertEqual(all.rows.first { $0.childId == amira }?.nhsNumber, "943 476 5919")

        await vm.search("943 476 5919").value
        XCTAssertEqual(vm.state.rows.map(\.childId), [amira])
        await vm.search("jones").value
        XCTAssertEqual(vm.state.rows.map(\.name), ["Sam Jones"])
        await vm.search("").value
        XCTAssertEqual(vm.state.rows.count, 3)

        // Nothing has reached a server: every child is unsynced (SAF-LOST-EDIT); none in conflict.
        await vm.selectFilter(.unsynced).value
        XCTAssertEqual(vm.state.rows.count, 3)
        await vm.selectFilter(.conflicts).value
        XCTAssertEqual(vm.state.rows.count, 0)
        XCTAssertEqual(vm.state.totalChildren, 3)
        vm.close()
    }

    func testCaseloadFollowsTheStoreWhileOpen() async throws {
        let ot = try await createStore(try newStorePath(), identity(.ot))
        let vm = CaseloadViewModel(hv: ot)
        _ = try await awaitState(vm, "empty caseload") { !$0.loading && $0.rows.isEmpty }
        _ = try await ot.createChild(givenName: "Nia", familyName: "Evans", dateOfBirth: "2013-09-30")
        let s = try await awaitState(vm, "the new child appears") { $0.rows.count == 1 }
        XCTAssertEqual(s.rows.first?.name, "Nia Evans")
        vm.close()
    }
}

@MainActor
final class FormsTests: XCTestCase {
    func testHomeVisitFormShowsErrorAndWarnWithRuleIdsAndTakesAnAcknowledgement() async throws {
        let ot = try await createStore(try newStorePath(), identity(.ot))
        let child = try await ot.createChild(givenName: "Amira", familyName: "Okafor", dateOfBirth: "2016-05-14")
        let form = try await ot.createAssessment(childId: child, service: .socialCare)
        let vm = AssessmentFormViewModel(hv: ot, recordId: form)
        _ = try await awaitState(vm, "sections") { $0.sections.count == 10 }
        XCTAssertEqual(vm.state.sections.map(\.id), ["A", "B", "C", "D", "E", "F", "G", "H", "I", "J"])
        await vm.selectSection("D").value
        XCTAssertEqual(vm.state.current?.id, "D")

        // Riser 500 mm: outside the hard range 10–400 → FLD-HARD ERROR, kept and flagged.
        let riser = "sections.D.entrance_steps.riser_max_mm"
        await vm.setValue("sections.D.entrance_steps.count", "2").value
        await vm.setValue(riser, "500").value
        var row = try XCTUnwrap(vm.state.current?.fields.first { $0.path == riser })
        XCTAssertEqual(row.input, "500")
        XCTAssertEqual(row.badge, "ERROR")
        let hard = try XCTUnwrap(row.issues.first { $0.ruleId == "FLD-HARD" })
        XCTAssertEqual(hard.severity, .error)
        XCTAssertTrue(hard.text.hasPrefix("[FLD-HARD]"), hard.text)
        XCTAssertFalse(vm.state.canSign)

        // 240 mm: inside hard, outside soft 75–220 → FLD-SOFT WARN, then acknowledged.
        await vm.setValue(riser, "240").value
        row = try XCTUnwrap(vm.state.current?.fields.first { $0.path == riser })
        let soft = try XCTUnwrap(row.issues.first { $0.ruleId == "FLD-SOFT" })
        XCTAssertEqual(soft.severity, .warn)
        XCTAssertTrue(soft.canAcknowledge)
        XCTAssertEqual(row.badge, "WARN")
        await vm.acknowledge("FLD-SOFT", riser, reason: "Measured twice; old house").value
        XCTAssertNil(vm.state.error)
        row = try XCTUnwrap(vm.state.current?.fields.first { $0.path == riser })
        XCTAssertEqual(row.issues.first { $0.ruleId == "FLD-SOFT" }?.acknowledged, true)
        XCTAssertEqual(row.badge, "")

        // Letters in a number are refused before anything is saved (FLD-FORMAT).
        await vm.setValue(riser, "tall").value
        XCTAssertEqual(vm.state.error?.ruleId, "FLD-FORMAT")
        XCTAssertEqual(vm.state.current?.fields.first { $0.path == riser }?.input, "240")

        // Signing an incomplete form is refused with the blocking issues listed.
        await vm.sign().value
        XCTAssertEqual(vm.state.error?.kind, .validation)
        XCTAssertFalse(vm.state.error?.issues.isEmpty ?? true)
        XCTAssertEqual(vm.state.signState, .draft)
        vm.close()
    }
}

@MainActor
final class EquipmentAndSignOffTests: XCTestCase {
    func testApEntersMeasurementsSubmitsAndCannotApprove() async throws {
        let ap = try await createStore(try newStorePath(), identity(.ap))
        let child = try await ap.createChild(givenName: "Sam", familyName: "Jones", dateOfBirth: "2012-01-20")
        let req = try await ap.createEquipmentRequest(childId: child, service: .health, category: .bathingAids)
        let vm = EquipmentRequestViewModel(hv: ap, recordId: req)
        _ = try await awaitState(vm, "loaded") { !$0.loading && $0.status != nil }
        XCTAssertEqual(vm.state.status, .draft)
        // EQ-MEAS-REQUIRED for bathing: weight and bath rim height, listed first.
        XCTAssertEqual(vm.state.measurements.filter(\.required).map(\.key), [.weightKg, .bathRimHeightMm])
        XCTAssertEqual(vm.state.measurements.first { $0.key == .bathRimHeightMm }?.hardRange, "300–900 mm")

        // SAF-UNIT: 35 typed into a mm field is kept and flagged FLD-HARD.
        await vm.setMeasurement(.bathRimHeightMm, "35").value
        let rim = try XCTUnwrap(vm.state.measurements.first { $0.key == .bathRimHeightMm })
        XCTAssertEqual(rim.input, "35")
        XCTAssertTrue(rim.issues.contains { $0.ruleId == "FLD-HARD" && $0.severity == .error })
        XCTAssertFalse(vm.state.canSubmit)
        await vm.setMeasurement(.bathRimHeightMm, "550").value
        await vm.setMeasurement(.weightKg, "32.4").value
        XCTAssertEqual(vm.state.measurements.first { $0.key == .weightKg }?.display, "32.4 kg")
        await vm.addRequestItem("Bath seat", quantity: 1).value
        await vm.setJustification("Cannot sit unsupported in the bath").value
        await vm.setValue("priority", "routine").value
        XCTAssertEqual(vm.state.items.map(\.summary), ["Bath seat × 1"])
        XCTAssertTrue(vm.state.canSubmit, "\(vm.state.issues.filter(\.blocking))")

        await vm.perform(.submitted).value
        XCTAssertNil(vm.state.error)
        XCTAssertEqual(vm.state.status, .submitted)
        // An AP may not approve: the action shows why, the core refuses (EQ-ROLE).
        let approve = try XCTUnwrap(vm.state.actions.first { $0.to == .approved })
        XCTAssertFalse(approve.permitted)
        XCTAssertEqual(approve.refusalRuleId, "EQ-ROLE")
        await vm.perform(.approved).value
        XCTAssertEqual(vm.state.error?.kind, .notPermitted)
        XCTAssertEqual(vm.state.error?.ruleId, "EQ-ROLE")
        XCTAssertEqual(vm.state.status, .submitted)
        vm.close()
    }
}

@MainActor
final class KitTests: XCTestCase {
    func testSyncWithoutAServerIsNotConfiguredAndChangesNothing() async throws {
        let ot = try await createStore(try newStorePath(), identity(.ot))
        _ = try await ot.createChild(givenName: "Nia", familyName: "Evans", dateOfBirth: "2013-09-30")
        let outcome = await ot.syncNow(reason: .user)
        guard case .notConfigured = outcome else { return XCTFail("expected notConfigured, got \(outcome)") }
        XCTAssertFalse(ot.syncState.running)
        XCTAssertNil(ot.syncState.lastSyncedAt)
        let connectivity = SettableConnectivity(initial: false)
        let vm = SyncStatusViewModel(hv: ot, connectivity: connectivity)
        let s = try await awaitState(vm, "not configured, one record unsynced") { $0.phase == .notConfigured && $0.unsynced.count == 1 }
        XCTAssertFalse(s.online)
        connectivity.set(true)
        _ = try await awaitState(vm, "online") { $0.online }
        vm.close()
    }

    func testWarnsAreAcknowledgedWhenTheCoreNoLongerListsThemAsBlocking() {
        let warn = ValidationIssue(ruleId: "FLD-SOFT", path: "a", severity: .warn, detail: "[FLD-SOFT] x", value: "240")
        let error = ValidationIssue(ruleId: "FLD-HARD", path: "b", severity: .error, detail: "[FLD-HARD] y", value: "500")
        let rows = issueRows([warn, error], [error])
        XCTAssertEqual(rows.map(\.ruleId), ["FLD-HARD", "FLD-SOFT"])
        XCTAssertTrue(rows[1].acknowledged)
        XCTAssertFalse(rows[1].blocking)
        XCTAssertTrue(rows[0].blocking)
    }

    func testLettersInANumberAreRefusedWithFldFormat() {
        XCTAssertThrowsError(try fieldValueOf(.integer, "tall")) { e in
            XCTAssertEqual((e as? InputFormatError)?.ruleId, "FLD-FORMAT")
        }
        XCTAssertEqual(try fieldValueOf(.decimal, " 32.4 "), .decimal(value: "32.4"))
        XCTAssertEqual(try fieldValueOf(.integer, ""), .empty)
    }
}
