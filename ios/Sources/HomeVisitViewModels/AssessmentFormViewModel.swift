// Home-visit assessment form, sections A–J, with ERROR/WARN under each field (rule ID shown)
// and warning acknowledgement.
// Mirrors android/homevisit/src/main/kotlin/app/homevisit/presenters/AssessmentFormPresenter.kt.
import Foundation
import HomeVisitCore
import HomeVisitKit

/// One item of a list, summarised (`Mum · mother`).
public struct ItemRowUi: Equatable, Identifiable, Sendable {
    public let itemId: String
    public let summary: String

    public var id: String { itemId }
}

/// A list in a section: its items and the fields a new item takes.
public struct ItemListUi: Equatable, Sendable {
    public let path: String
    public let label: String
    public let itemFields: [FieldSpec]
    public let items: [ItemRowUi]
}

/// One section A–J.
///
/// - `errorCount`: ERRORs in the section (tab badge).
/// - `warnCount`: unacknowledged WARNs in the section.
public struct SectionUi: Equatable, Identifiable, Sendable {
    public let id: String
    public let title: String
    public let fields: [FieldRow]
    public let lists: [ItemListUi]
    public let errorCount: Int
    public let warnCount: Int
}

/// - `sections`: A–J in order; J is the sign-off block (see `SignOffViewModel`).
/// - `selectedSection`: the section shown (`A`…`J`).
/// - `issues`: every issue of the record at the sign stage, ERRORs first.
/// - `canSign`: nothing blocks signing (no ERROR, every WARN acknowledged, no conflict).
/// - `readOnly`: signed: edits go in an addendum (`RK-SIGN-LOCK`).
public struct AssessmentFormState: ScreenState {
    public let recordId: String
    public var banner: Banner?
    public var signState: SignState?
    public var sections: [SectionUi] = []
    public var selectedSection: String = "A"
    public var issues: [IssueRow] = []
    public var canSign: Bool = false
    public var readOnly: Bool = false
    public var conflictCount: Int = 0
    public var loading: Bool = true
    public var error: UiError?

    public init(recordId: String) {
        self.recordId = recordId
    }

    /// The section shown.
    public var current: SectionUi? { sections.first { $0.id == selectedSection } }
}

/// Events: `selectSection` and the shared form events of `RecordFormViewModel`.
@MainActor
public final class AssessmentFormViewModel: RecordFormViewModel<AssessmentFormState> {
    public init(hv: HomeVisit, recordId: String) {
        super.init(hv: hv, recordId: recordId, initial: AssessmentFormState(recordId: recordId))
        start()
    }

    override func spec(_ path: String) -> FieldSpec? { AssessmentForm.field(path) }

    /// Shows section `id` (`A`…`J`).
    @discardableResult
    public func selectSection(_ id: String) -> Task<Void, Never> {
        act {
            guard AssessmentForm.sections.contains(where: { $0.id == id }) else {
                throw UiError(kind: .invalidInput, ruleId: nil, text: "no section \(id)")
            }
            self.update { $0.selectedSection = id }
        }
    }

    override func from(_ state: AssessmentFormState, _ snapshot: RecordSnapshot) -> AssessmentFormState {
        let content = snapshot.content
        let sections = AssessmentForm.sections.map { s -> SectionUi in
            let sectionIssues = snapshot.issues.under("sections.\(s.id)")
            return SectionUi(
                id: s.id,
                title: s.title,
                fields: s.fields.map { fieldRow($0, content, snapshot.issues, snapshot.conflictPaths) },
                lists: s.lists.map { l in
                    ItemListUi(
                        path: l.path,
                        label: l.label,
                        itemFields: l.itemFields,
                        items: liveItems(content, l.path).map { item in
                            ItemRowUi(
                                itemId: jsonText(item["item_id"]) ?? "",
                                summary: l.itemFields.compactMap { f in item[f.path].map { displayValue(f.path, $0) } }
                                    .joined(separator: " · ")
                            )
                        }
                    )
                },
                errorCount: sectionIssues.filter(\.isError).count,
                warnCount: sectionIssues.filter { !$0.isError && $0.blocking }.count
            )
        }
        var next = state
        next.banner = snapshot.view.banner
        next.signState = snapshot.view.signState
        next.sections = sections
        next.issues = snapshot.issues
        next.canSign = snapshot.view.signState == .draft && snapshot.blockers.isEmpty && snapshot.view.conflicts.isEmpty
        next.readOnly = snapshot.view.signState != .draft
        next.conflictCount = snapshot.view.conflicts.count
        next.loading = false
        return next
    }
}
