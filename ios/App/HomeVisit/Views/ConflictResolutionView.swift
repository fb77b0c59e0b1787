// Conflict resolution: every clinical field with concurrent values, each candidate with who wrote
// it (user, role, device, time); pick one, then resolve (CF-CLINICAL, SAF-SILENT-CONFLICT).
import HomeVisitCore
import HomeVisitKit
import HomeVisitViewModels
import SwiftUI

struct ConflictResolutionView: View {
    @StateObject private var model: ConflictResolutionViewModel

    init(hv: HomeVisit, recordId: String) {
        _model = StateObject(wrappedValue: ConflictResolutionViewModel(hv: hv, recordId: recordId))
    }

    var body: some View {
        List {
            BannerView(banner: model.state.banner)
            ErrorBanner(error: model.state.error) { model.dismissError() }
            if model.state.allResolved {
                Label("No conflict left on this record.", systemImage: "checkmark.circle").foregroundStyle(.green)
            }
            if !model.state.resolvedPaths.isEmpty {
                Text("Resolved here: \(model.state.resolvedPaths.joined(separator: ", "))").font(.caption).foregroundStyle(.secondary)
            }
            ForEach(model.state.conflicts) { conflict in
                Section(conflict.path) {
                    ForEach(Array(conflict.candidates.enumerated()), id: \.offset) { index, candidate in
                        Button {
                            model.choose(conflict.path, index)
                        } label: {
                            HStack {
                                Image(systemName: conflict.selectedIndex == index ? "largecircle.fill.circle" : "circle")
                                VStack(alignment: .leading, spacing: 2) {
                                    Text(candidate.display).font(.headline)
                                    Text("by \(candidate.mine ? "you" : candidate.userId ?? "unknown") (\(candidate.role.map(roleName) ?? "—")) on device \(candidate.deviceId ?? "—")")
                                        .font(.caption)
                                    Text(candidate.at ?? "time unknown").font(.caption2).foregroundStyle(.secondary)
                                }
                            }
                        }
                        .buttonStyle(.plain)
                    }
                    Button("Use the selected value") { model.resolve(conflict.path) }
                        .disabled(conflict.selected == nil)
                }
            }
        }
        .overlay { if model.state.loading { ProgressView() } }
        .navigationTitle("Conflicts")
        .refreshable { await model.load().value }
    }
}
