// The iOS app: enrolment (who is signed in, which team server), then the caseload with every
// record screen. The store key lives in the Keychain; NWPathMonitor triggers a sync whenever the
// tablet comes back online.
import HomeVisitCore
import HomeVisitKit
import HomeVisitViewModels
import SwiftUI

@main
struct HomeVisitApp: App {
    @StateObject private var session = AppSession()

    var body: some Scene {
        WindowGroup {
            Group {
                switch session.phase {
                case .enrol(let problem):
                    EnrolView(problem: problem) { session.open($0) }
                case .opening:
                    ProgressView("Opening the encrypted store…")
                case .open(let hv):
                    RootView(hv: hv, connectivity: session.connectivity)
                }
            }
            .task { session.openSaved() }
        }
    }
}

/// Who is signed in on this device and the team server, kept in UserDefaults; nothing secret
/// goes there: the store key and the device token are in the Keychain.
struct Enrolment: Codable, Equatable {
    var userId = ""
    var teamId = ""
    var role = "ot"
    var hcpcNumber = ""
    var hcpcVerifiedUntil = ""
    var serverURL = ""
    var deviceToken = ""

    private enum CodingKeys: String, CodingKey {
        case userId, teamId, role, hcpcNumber, hcpcVerifiedUntil, serverURL
    }

    var identityRole: Role {
        switch role {
        case "ap": return .ap
        case "approver": return .approver
        default: return .ot
        }
    }
}

/// Opens the store for the enrolled user and runs sync on reconnect.
@MainActor
final class AppSession: ObservableObject {
    enum Phase {
        case enrol(String?)
        case opening
        case open(HomeVisit)
    }

    @Published private(set) var phase: Phase = .enrol(nil)
    let connectivity = PathMonitorConnectivity()
    private var reconnect: Task<Void, Never>?
    private static let enrolmentKey = "homevisit.enrolment"
    private static let deviceKey = "homevisit.device-id"

    /// The device id, created once per installation.
    private var deviceId: String {
        if let id = UserDefaults.standard.string(forKey: Self.deviceKey) { return id }
        let id = UUID().uuidString.lowercased()
        UserDefaults.standard.set(id, forKey: Self.deviceKey)
        return id
    }

    func openSaved() {
        guard case .enrol = phase,
              let data = UserDefaults.standard.data(forKey: Self.enrolmentKey),
              let saved = try? JSONDecoder().decode(Enrolment.self, from: data) else { return }
        var e = saved
        e.deviceToken = (try? KeychainSecret(account: e.userId).read()) ?? ""
        open(e)
    }

    func open(_ e: Enrolment) {
        phase = .opening
        let identity = Identity(
            userId: e.userId, role: e.identityRole, deviceId: deviceId, teamId: e.teamId,
            hcpcNumber: e.hcpcNumber.isEmpty ? nil : e.hcpcNumber,
            hcpcVerifiedUntil: e.hcpcVerifiedUntil.isEmpty ? nil : e.hcpcVerifiedUntil
        )
        let server = e.serverURL.isEmpty ? nil : ServerConfig(url: e.serverURL, token: e.deviceToken)
        Task {
            do {
                let dir = try FileManager.default.url(for: .applicationSupportDirectory, in: .userDomainMask, appropriateFor: nil, create: true)
                let path = dir.appendingPathComponent("homevisit-\(e.userId).db").path
                let keys = KeychainKeyProvider(account: e.userId)
                // First enrolment on this device creates the store; afterwards it must be there:
                // a lost or emptied file is reported, never replaced by a new, empty store.
                let hv = FileManager.default.fileExists(atPath: path)
                    ? try await HomeVisit.open(path: path, keys: keys, identity: identity, server: server)
                    : try await HomeVisit.create(path: path, keys: keys, identity: identity, server: server)
                if let data = try? JSONEncoder().encode(e) {
                    UserDefaults.standard.set(data, forKey: Self.enrolmentKey)
                }
                if !e.deviceToken.isEmpty {
                    try KeychainSecret(account: e.userId).write(e.deviceToken)
                }
                reconnect?.cancel()
                reconnect = SyncOnReconnect(trigger: hv, connectivity: connectivity).start()
                phase = .open(hv)
            } catch {
                // WrongKey leaves the file untouched: ask again, never delete (docs/API.md).
                phase = .enrol(toUiError(error).text)
            }
        }
    }
}

/// Where the navigation stack can go.
enum Route: Hashable {
    case child(String)
    case record(String, RecordKind?)
    case conflicts(String)
    case signOff(String)
    case sync
}

/// The navigation path, shared so a screen can open a record it just created.
final class Router: ObservableObject {
    @Published var path = NavigationPath()
}

struct RootView: View {
    let hv: HomeVisit
    let connectivity: Connectivity
    @StateObject private var router = Router()

    var body: some View {
        NavigationStack(path: $router.path) {
            CaseloadView(hv: hv, connectivity: connectivity)
                .navigationDestination(for: Route.self) { route in
                    switch route {
                    case .child(let id): ChildSummaryView(hv: hv, childId: id)
                    case .record(let id, let kind): RecordScreen(hv: hv, recordId: id, kind: kind)
                    case .conflicts(let id): ConflictResolutionView(hv: hv, recordId: id)
                    case .signOff(let id): SignOffView(hv: hv, recordId: id)
                    case .sync: SyncStatusView(hv: hv, connectivity: connectivity)
                    }
                }
        }
        .environmentObject(router)
    }
}

/// The screen of a record by its kind; referrals show their conflicts and banner (their
/// eligibility is on the child summary).
struct RecordScreen: View {
    let hv: HomeVisit
    let recordId: String
    let kind: RecordKind?

    var body: some View {
        switch kind {
        case .assessment?: AssessmentFormView(hv: hv, recordId: recordId)
        case .riskAssessment?: RiskAssessmentView(hv: hv, recordId: recordId)
        case .equipmentRequest?: EquipmentRequestView(hv: hv, recordId: recordId)
        default: ConflictResolutionView(hv: hv, recordId: recordId)
        }
    }
}

/// First start, or the store could not be opened: who is signed in and the team server.
struct EnrolView: View {
    let problem: String?
    let done: (Enrolment) -> Void
    @State private var e = Enrolment()

    var body: some View {
        NavigationStack {
            Form {
                if let problem {
                    Text(problem).foregroundStyle(.red)
                }
                Section("You") {
                    TextField("User id (UUID)", text: $e.userId).textInputAutocapitalization(.never)
                    TextField("Team id (UUID)", text: $e.teamId).textInputAutocapitalization(.never)
                    Picker("Role", selection: $e.role) {
                        Text("Assistant practitioner").tag("ap")
                        Text("Occupational therapist").tag("ot")
                        Text("Approver").tag("approver")
                    }
                    if e.role != "ap" {
                        TextField("HCPC number", text: $e.hcpcNumber).textInputAutocapitalization(.characters)
                        TextField("HCPC verified until (YYYY-MM-DD)", text: $e.hcpcVerifiedUntil)
                    }
                }
                Section("Team server (optional)") {
                    TextField("wss://team.example/sync", text: $e.serverURL).textInputAutocapitalization(.never).keyboardType(.URL)
                    SecureField("Device token", text: $e.deviceToken)
                }
                Button("Open") { done(e) }
                    .disabled(e.userId.isEmpty || e.teamId.isEmpty)
            }
            .navigationTitle("HomeVisit")
        }
    }
}
