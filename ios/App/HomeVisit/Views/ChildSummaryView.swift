// Child summary: banner, the child's records with sign and sync state, each referral's
// eligibility (outcome, rule IDs, reasons, signposts, missing information), and new records.
import HomeVisitCore
import HomeVisitKit
import HomeVisitViewModels
import SwiftUI

struct ChildSummaryView: View {
    @EnvironmentObject private var router: Router
    @StateObject private var model: ChildSummaryViewModel
    @State private var newRequestCategory: EquipmentCategory = .specialistSeating
    @State private var service: Service = .health
    @State private var creating: RecordKind?

    init(hv: HomeVisit, childId: String) {
        _model = StateObject(wrappedValue: ChildSummaryViewModel(hv: hv, childId: childId))
    }

    static let categories: [EquipmentCategory] = [
        .specialistSeating, .bathingAids, .toiletingAids, .standingFrames, .bedsCots,
        .hoistsSlings, .minorAdaptation, .majorAdaptation, .other,
    ]

    var body: some View {
        List {
            BannerView(banner: model.state.banner)
            ErrorBanner(error: model.state.error) { model.dismissError() }
            Section("Eligibility") {
                if model.state.eligibility.isEmpty {
                    Text("No referral yet.").foregroundStyle(.secondary)
                }
                ForEach(model.state.eligibility) { card in
                    EligibilityCardView(card: card) { model.evaluateEligibility(card.referralId) }
                }
            }
            Section("Records") {
                ForEach(model.state.records) { row in
                    NavigationLink(value: Route.record(row.recordId, row.kind)) {
                        RecordRowView(row: row)
                    }
                }
            }
            Section("New") {
                Picker("Service", selection: $service) {
                    Text("Health").tag(Service.health)
                    Text("Social care").tag(Service.socialCare)
                }
                .pickerStyle(.segmented)
                Button("Referral") {
                    creating = .referral
                    model.createReferral(service)
                }
                Button("Home visit (A–J)") {
                    creating = .assessment
                    model.createAssessment(service)
                }
                Button("M&H risk assessment") {
                    creating = .riskAssessment
                    model.createRiskAssessment()
                }
                HStack {
                    Picker("Equipment", selection: $newRequestCategory) {
                        ForEach(Self.categories, id: \.self) { Text(categoryName($0)).tag($0) }
                    }
                    Button("Request") {
                        creating = .equipmentRequest
                        model.createEquipmentRequest(service, category: newRequestCategory)
                    }
                }
            }
        }
        .overlay { if model.state.loading { ProgressView() } }
        .navigationTitle(model.state.banner?.name ?? "Child")
        .onChange(of: model.state.lastCreatedId) { id in
            // The screen opens the record the last create… made.
            if let id { router.path.append(Route.record(id, creating)) }
        }
    }
}

private struct RecordRowView: View {
    let row: RecordRow

    var body: some View {
        VStack(alignment: .leading, spacing: 2) {
            Text(row.title).font(.headline)
            HStack(spacing: 10) {
                Text(row.kind?.label ?? "Record")
                Text(readable(row.status))
                SyncBadge(status: row.syncStatus)
                if row.needsSignature { Label("to sign", systemImage: "signature") }
                if row.conflictCount > 0 { Label("\(row.conflictCount)", systemImage: "arrow.triangle.branch").foregroundStyle(.purple) }
            }
            .font(.caption)
            .foregroundStyle(.secondary)
        }
    }
}

/// Where a record stands with the server (`SAF-LOST-EDIT`).
struct SyncBadge: View {
    let status: SyncStatus

    var body: some View {
        switch status {
        case .localOnly: Label("on this device only", systemImage: "iphone").foregroundStyle(.orange)
        case .pending: Label("pending", systemImage: "icloud.and.arrow.up").foregroundStyle(.orange)
        case .synced: Label("synced", systemImage: "checkmark.icloud").foregroundStyle(.green)
        case .conflict: Label("conflict", systemImage: "exclamationmark.icloud").foregroundStyle(.purple)
        }
    }
}

private struct EligibilityCardView: View {
    let card: EligibilityCard
    let evaluate: () -> Void

    var body: some View {
        VStack(alignment: .leading, spacing: 6) {
            HStack {
                Text(card.title).font(.headline)
                Spacer()
                Text(card.outcome?.label ?? "Not evaluated")
                    .font(.subheadline.bold())
                    .foregroundStyle(card.outcome == .eligible ? Color.green : card.outcome == .notEligible ? Color.red : Color.orange)
            }
            if let asOf = card.asOf { Text("As of \(asOf)").font(.caption).foregroundStyle(.secondary) }
            ForEach(card.reasons, id: \.self) { r in
                Text("[\(r.ruleId)] \(r.text)").font(.caption)
            }
            if !card.signposts.isEmpty {
                Text("Signpost: \(card.signposts.map(\.label).joined(separator: ", "))").font(.caption)
            }
            if !card.missing.isEmpty {
                Text("Missing: \(card.missing.joined(separator: ", "))").font(.caption).foregroundStyle(.orange)
            }
            ForEach(card.declined, id: \.self) { d in
                Text("Not provided [\(d.ruleId)] \(d.text)\(d.signpost.map { " → \($0.label)" } ?? "")").font(.caption)
            }
            Button("Evaluate eligibility", action: evaluate).buttonStyle(.bordered)
        }
    }
}
