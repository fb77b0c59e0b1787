// Share a record's report as PDF (docs/REPORTS.md; RK-REPORT, RK-AUDIT, CF-BLOCK): the core
// makes the PDF and writes the print entry to the access log; the view hands the bytes to the
// share sheet or print service through a ReportShareSheet.
// Mirrors android/homevisit/src/main/kotlin/app/homevisit/presenters/ShareReportPresenter.kt.
import Foundation
import HomeVisitCore
import HomeVisitKit

/// Where the report stands: idle → loading → ready (bytes and file name) or failed.
public enum ReportPhase: Equatable, Sendable {
    /// Nothing asked yet.
    case idle
    /// The core is making the PDF.
    case loading
    /// The PDF is made (and its print logged); the file name carries no child's name.
    case ready(pdf: Data, fileName: String, pageCount: Int, kind: ReportKind)
    /// Refused or failed: `conflict` (CF-BLOCK) while a conflict is open, `RK-REPORT` for a referral.
    case failed(UiError)
}

/// The platform's share sheet or print service (iOS: `UIActivityViewController` over a temp file).
public protocol ReportShareSheet: AnyObject {
    func share(pdf: Data, fileName: String)
}

/// - `purpose`: who the report is for; printed in its footer and logged.
/// - `phase`: idle, loading, ready or failed.
/// - `shared`: whether the ready PDF was handed to the share sheet.
public struct ShareReportState: ScreenState {
    public let recordId: String
    public var purpose: ReportPurpose = .family
    public var phase: ReportPhase = .idle
    public var shared: Bool = false
    public var error: UiError?

    public init(recordId: String) {
        self.recordId = recordId
    }
}

/// Events: `prepare`, `share`, `reset`. `team` names the users the report mentions.
@MainActor
public final class ShareReportViewModel: ViewModel<ShareReportState> {
    private let hv: HomeVisit
    private let team: [TeamMember]
    private let sheet: ReportShareSheet

    public init(hv: HomeVisit, recordId: String, team: [TeamMember], sheet: ReportShareSheet) {
        self.hv = hv
        self.team = team
        self.sheet = sheet
        super.init(initial: ShareReportState(recordId: recordId))
    }

    /// Makes the report for `purpose`; the state goes loading → ready or failed.
    @discardableResult
    public func prepare(_ purpose: ReportPurpose) -> Task<Void, Never> {
        act {
            self.update {
                $0.purpose = purpose
                $0.phase = .loading
                $0.shared = false
            }
            do {
                let r = try await self.hv.reportPdf(recordId: self.state.recordId, purpose: purpose, team: self.team)
                self.update { $0.phase = .ready(pdf: r.pdf, fileName: r.fileName, pageCount: Int(r.pageCount), kind: r.kind) }
            } catch {
                let e = toUiError(error)
                self.update {
                    $0.phase = .failed(e)
                    $0.error = e
                }
            }
        }
    }

    /// Hands the ready PDF to the share sheet; does nothing before it is ready.
    @discardableResult
    public func share() -> Task<Void, Never> {
        act {
            if case let .ready(pdf, fileName, _, _) = self.state.phase {
                self.sheet.share(pdf: pdf, fileName: fileName)
                self.update { $0.shared = true }
            }
        }
    }

    /// Forgets the PDF (the bytes leave memory once the share sheet has them).
    @discardableResult
    public func reset() -> Task<Void, Never> {
        act {
            self.update {
                $0.phase = .idle
                $0.shared = false
            }
        }
    }
}
