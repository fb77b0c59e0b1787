// Sync status (SAF-LOST-EDIT): online or not, the phase, a progress bar while syncing, records
// still only on this device, conflicts, when the device last synced completely, "Sync now".
import HomeVisitCore
import HomeVisitKit
import HomeVisitViewModels
import SwiftUI

struct SyncStatusView: View {
    @StateObject private var model: SyncStatusViewModel

    init(hv: HomeVisit, connectivity: Connectivity) {
        _model = StateObject(wrappedValue: SyncStatusViewModel(hv: hv, connectivity: connectivity))
    }

    var body: some View {
        List {
            ErrorBanner(error: model.state.error) { model.dismissError() }
            Section {
                LabeledContent("Network", value: model.state.online ? "Online" : "Offline")
                LabeledContent("Status", value: phaseName(model.state.phase))
                if model.state.phase == .syncing {
                    if let fraction = model.state.fraction {
                        ProgressView(value: fraction) {
                            Text("\(model.state.docsDone) of \(model.state.docsTotal) records")
                        }
                    } else {
                        ProgressView("Connecting…")
                    }
                }
                LabeledContent("Last synced", value: model.state.lastSyncedAt ?? "never")
                if let reason = model.state.lastReason {
                    LabeledContent("Last sync started by", value: reason.rawValue)
                }
                LabeledContent("Last sync", value: "\(model.state.lastDocsSent) sent, \(model.state.lastDocsReceived) received")
                Button("Sync now") { model.syncNow() }
                    .disabled(model.state.phase == .syncing || model.state.phase == .notConfigured || !model.state.online)
            }
            Section("Not yet on the server (\(model.state.unsynced.count), \(model.state.conflictCount) in conflict)") {
                ForEach(model.state.unsynced) { row in
                    NavigationLink(value: Route.record(row.recordId, row.kind)) {
                        HStack {
                            Text(row.title)
                            Spacer()
                            SyncBadge(status: row.syncStatus).font(.caption)
                        }
                    }
                }
            }
        }
        .navigationTitle("Sync")
    }
}

func phaseName(_ phase: SyncPhase) -> String {
    switch phase {
    case .notConfigured: return "No team server configured"
    case .syncing: return "Syncing"
    case .failed: return "Last sync failed; retried when back online"
    case .offline: return "Offline: changes wait on this device"
    case .pending: return "Changes waiting to sync"
    case .synced: return "Everything is on the server"
    }
}
