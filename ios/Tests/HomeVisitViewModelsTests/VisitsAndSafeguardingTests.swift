// iOS twins of the JVM VisitsAndSafeguardingTest: missed visits (CH-VISIT-MISSED,
// CH-VISIT-OUTCOME), safeguarding status on the banner (CH-SG-STATUS), carer training
// (MH-CARER-TRAINED) and the child's voice (HV-B-VOICE).
import Foundation
import HomeVisitCore
import HomeVisitKit
@testable import HomeVisitViewModels
import XCTest

@MainActor
final class VisitsAndSafeguardingTests: XCTestCase {
    func testTwoMissedVisitsWarnOnTheVisitsScreenAndInTheCaseload() async throws {
        let ot = try await createStore(try newStorePath(), identity(.ot))
        let child = try await ot.createChild(givenName: "Amira", familyName: "Okafor", dateOfBirth: "2016-05-14")
        let vm = VisitsViewModel(hv: ot, childId: child)
        _ = try await awaitState(vm, "loaded") { !$0.loading }
        await vm.recordVisit(day(-40), place: .childHome, outcome: .noAccess, reason: "Nobody home", followUp: nil).value
        XCTAssertEqual(vm.state.error?.ruleId, "CH-VISIT-OUTCOME")
        XCTAssertEqual(vm.state.visits.count, 0)
        await vm.recordVisit(day(-40), place: .childHome, outcome: .wasNotBrought, reason: "Not brought to clinic", followUp: "Rebooked; letter sent").value
        XCTAssertNil(vm.state.missedVisitWarning)
        await vm.recordVisit(day(-5), place: .childHome, outcome: .noAccess, reason: "Nobody home", followUp: "Phoned; health visitor told").value
        let s = try await awaitState(vm, "CH-VISIT-MISSED") { $0.missedVisitWarning != nil }
        XCTAssertTrue(s.missedVisitWarning?.contains("safeguarding referral") ?? false)
        XCTAssertEqual(s.visits.map(\.outcomeLabel), ["No access", "Was not brought / not available"])

        let c = CaseloadViewModel(hv: ot)
        _ = try await awaitState(c, "caseload") { !$0.loading && $0.rows.count == 1 }
        XCTAssertNotNil(c.state.rows.first?.missedVisitWarning)
        await c.selectFilter(.safeguarding).value
        XCTAssertEqual(c.state.rows.map(\.childId), [child])
    }

    func testSafeguardingStatusShowsOnTheBannerOfTheChildsRecordsAndIsAttributed() async throws {
        let ot = try await createStore(try newStorePath(), identity(.ot))
        let child = try await ot.createChild(givenName: "Amira", familyName: "Okafor", dateOfBirth: "2016-05-14")
        let ra = try await ot.createRiskAssessment(childId: child)
        let vm = VisitsViewModel(hv: ot, childId: child)
        _ = try await awaitState(vm, "loaded") { !$0.loading }
        XCTAssertEqual(vm.state.safeguardingStatus, .unknown)
        await vm.setSafeguarding(SafeguardingUpdate(
            status: .lookedAfter, lookedAfterBy: nil, socialWorkerName: "Dana Reid", socialWorkerTeam: nil,
            socialWorkerPhone: "01582 000000", socialWorkerEmail: nil)).value
        XCTAssertEqual(vm.state.error?.ruleId, "CH-SG-STATUS")
        await vm.setSafeguarding(SafeguardingUpdate(
            status: .lookedAfter, lookedAfterBy: "Luton Borough Council", socialWorkerName: "Dana Reid",
            socialWorkerTeam: nil, socialWorkerPhone: "01582 000000", socialWorkerEmail: nil)).value
        let s = try await awaitState(vm, "looked after") { $0.safeguardingStatus == .lookedAfter }
        XCTAssertEqual(s.safeguardingLabel, "Looked-after child")
        XCTAssertEqual(s.socialWorker, "Dana Reid (01582 000000)")
        let banner = try await ot.view(recordId: ra).banner
        XCTAssertEqual(banner.safeguardingStatus, .lookedAfter)
    }

    func testAHoistTaskWithoutATrainedCarerWarnsUntilTrainingIsRecorded() async throws {
        let ot = try await createStore(try newStorePath(), identity(.ot))
        let child = try await ot.createChild(givenName: "Mo", familyName: "Ali", dateOfBirth: "2014-07-09")
        let ra = try await ot.createRiskAssessment(childId: child)
        try await fillRiskAssessment(ot, ra)
        let vm = RiskAssessmentViewModel(hv: ot, recordId: ra)
        _ = try await awaitState(vm, "loaded") { !$0.loading }
        await vm.addEquipment(kind: "hoist_ceiling", swlKg: "182.0", lastExamOn: day(-30), nextExamDueOn: day(150), integralSpreaderBar: true).value
        let hoist = try XCTUnwrap(vm.lastEquipmentId)
        await vm.addEquipment(kind: "sling", swlKg: "100.0", lastExamOn: day(-30), nextExamDueOn: day(150)).value
        let sling = try XCTUnwrap(vm.lastEquipmentId)
        await vm.addTask(from: "bed", to: "bath").value
        let task = try XCTUnwrap(vm.lastAddedItemId)
        await vm.setTaskMethod(task, method: "hoist_ceiling", carersRequired: 1).value
        await vm.useEquipment(task, slot: "hoist_id", equipmentId: hoist).value
        await vm.useEquipment(task, slot: "sling_id", equipmentId: sling).value
        _ = try await awaitState(vm, "MH-CARER-TRAINED") { $0.trainingIssues.contains { $0.ruleId == "MH-CARER-TRAINED" } }
        await vm.addCarerTraining(task, traineeName: "Jo Respite", traineeRole: .respiteStaff, hoistId: hoist, slingId: sling,
                                  trainedBy: "A. Therapist", trainedOn: day(-2), competent: true, reviewDueOn: day(180)).value
        let s = try await awaitState(vm, "trained") { $0.training.count == 1 }
        XCTAssertEqual(s.training.first?.traineeRole, "respite_staff")
        XCTAssertFalse(s.trainingIssues.contains { $0.ruleId == "MH-CARER-TRAINED" })
    }

    func testASocialCareFormNeedsTheChildsViewsAndNonVerbalObservedWithHowIsEnough() async throws {
        let ot = try await createStore(try newStorePath(), identity(.ot))
        let child = try await ot.createChild(givenName: "Mo", familyName: "Ali", dateOfBirth: "2014-07-09")
        let form = try await ot.createAssessment(childId: child, service: .socialCare)
        try await ot.setField(recordId: form, path: "sections.A.visit_date", value: .text(value: day(0)))
        func voice() async throws -> Int {
            try await ot.blockingIssues(recordId: form).filter { $0.ruleId == "HV-B-VOICE" }.count
        }
        let before = try await voice()
        XCTAssertEqual(before, 1)
        try await ot.setChildViews(assessmentId: form, mode: .nonVerbalObserved, text: nil)
        let still = try await voice()
        XCTAssertEqual(still, 1)
        try await ot.setChildViews(assessmentId: form, mode: .nonVerbalObserved, text: "Reached for the bath chair and smiled")
        let after = try await voice()
        XCTAssertEqual(after, 0)
    }
}
