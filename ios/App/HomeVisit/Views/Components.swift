// Pieces every record screen shares: the child banner (SAF-WRONG-CHILD), the error banner with
// its rule ID, a field editor with its ERROR/WARN issues, and the acknowledgement sheet (FLD-ACK).
import HomeVisitCore
import HomeVisitKit
import HomeVisitViewModels
import SwiftUI
import UIKit

/// Name, date of birth, NHS number 3-3-4 and alerts, on top of every record screen.
struct BannerView: View {
    let banner: Banner?

    var body: some View {
        if let banner {
            VStack(alignment: .leading, spacing: 4) {
                Text(banner.name).font(.headline)
                HStack(spacing: 16) {
                    Text("DOB \(banner.dateOfBirth ?? "—")")
                    Text("NHS \(nhs334(banner.nhsNumber) ?? "—")").monospacedDigit()
                }
                .font(.subheadline)
                ForEach(banner.alerts, id: \.self) { alert in
                    Label(alert, systemImage: "exclamationmark.triangle.fill").foregroundStyle(.orange)
                }
            }
            .frame(maxWidth: .infinity, alignment: .leading)
            .padding(10)
            .background(Color.yellow.opacity(0.15))
            .accessibilityElement(children: .combine)
        }
    }
}

/// The last event's failure with its rule ID; tap to dismiss.
struct ErrorBanner: View {
    let error: UiError?
    let dismiss: () -> Void

    var body: some View {
        if let error {
            VStack(alignment: .leading, spacing: 4) {
                Text(error.text).font(.callout.weight(.semibold))
                ForEach(Array(error.issues.enumerated()), id: \.offset) { _, issue in
                    Text("• \(issue.detail)").font(.caption)
                }
                if !error.paths.isEmpty {
                    Text("Open Conflicts to resolve: \(error.paths.joined(separator: ", "))").font(.caption)
                }
            }
            .frame(maxWidth: .infinity, alignment: .leading)
            .padding(10)
            .background(Color.red.opacity(0.12))
            .onTapGesture(perform: dismiss)
            .accessibilityAddTraits(.isButton)
        }
    }
}

/// One issue: rule ID, ERROR or WARN, the core's sentence; a WARN offers acknowledgement.
struct IssueLine: View {
    let issue: IssueRow
    var acknowledge: ((IssueRow) -> Void)?

    var body: some View {
        HStack(alignment: .firstTextBaseline, spacing: 6) {
            Image(systemName: issue.isError ? "xmark.octagon.fill" : issue.acknowledged ? "checkmark.seal" : "exclamationmark.triangle.fill")
                .foregroundStyle(issue.isError ? Color.red : issue.acknowledged ? Color.secondary : Color.orange)
            VStack(alignment: .leading, spacing: 2) {
                Text(issue.text).font(.caption)
                Text(issue.isError ? "ERROR · \(issue.ruleId)" : issue.acknowledged ? "WARN acknowledged · \(issue.ruleId)" : "WARN · \(issue.ruleId)")
                    .font(.caption2)
                    .foregroundStyle(.secondary)
            }
            Spacer()
            if issue.canAcknowledge, let acknowledge {
                Button("Acknowledge") { acknowledge(issue) }
                    .font(.caption)
                    .buttonStyle(.bordered)
            }
        }
    }
}

/// A field with the editor its kind needs, its unit and its issues underneath.
struct FieldEditor: View {
    let row: FieldRow
    let readOnly: Bool
    let commit: (String) -> Void
    let toggle: (String, Bool) -> Void
    let acknowledge: (IssueRow) -> Void

    @State private var text = ""

    var body: some View {
        VStack(alignment: .leading, spacing: 4) {
            HStack {
                Text(row.label)
                if row.inConflict {
                    Label("conflict", systemImage: "arrow.triangle.branch").font(.caption).foregroundStyle(.purple)
                }
                Spacer()
                if !row.badge.isEmpty {
                    Text(row.badge).font(.caption2.bold()).foregroundStyle(row.badge == "ERROR" ? Color.red : Color.orange)
                }
            }
            editor
            ForEach(row.issues, id: \.self) { issue in
                IssueLine(issue: issue, acknowledge: readOnly ? nil : acknowledge)
            }
        }
        .onAppear { text = row.input }
        .onChange(of: row.input) { newValue in text = newValue }
    }

    @ViewBuilder
    private var editor: some View {
        if readOnly {
            Text(row.display).foregroundStyle(.secondary)
        } else {
            switch row.kind {
            case .codeSet:
                ForEach(row.options, id: \.self) { code in
                    Toggle(code.replacingOccurrences(of: "_", with: " "), isOn: Binding(
                        get: { row.selected.contains(code) },
                        set: { on in toggle(code, on) }
                    ))
                }
            case .code:
                Picker(row.label, selection: Binding(get: { row.input }, set: { commit($0) })) {
                    Text("—").tag("")
                    ForEach(row.options, id: \.self) { code in
                        Text(code.replacingOccurrences(of: "_", with: " ")).tag(code)
                    }
                }
                .pickerStyle(.menu)
            case .flag:
                Picker(row.label, selection: Binding(get: { row.input }, set: { commit($0) })) {
                    Text("—").tag("")
                    Text("Yes").tag("true")
                    Text("No").tag("false")
                }
                .pickerStyle(.segmented)
            default:
                HStack {
                    TextField(placeholder, text: $text, axis: row.kind == .longText ? .vertical : .horizontal)
                        .keyboardType(keyboard)
                        .textInputAutocapitalization(row.kind == .longText ? .sentences : .never)
                        .onSubmit { commit(text) }
                    if let unit = row.unit { Text(unit).foregroundStyle(.secondary) }
                    if text != row.input {
                        Button("Save") { commit(text) }.buttonStyle(.borderedProminent)
                    }
                }
            }
        }
    }

    private var placeholder: String {
        switch row.kind {
        case .date: return "YYYY-MM-DD"
        case .time: return "HH:MM"
        case .decimal: return "0.0"
        default: return row.label
        }
    }

    private var keyboard: UIKeyboardType {
        switch row.kind {
        case .integer: return .numberPad
        case .decimal: return .decimalPad
        case .date, .time: return .numbersAndPunctuation
        default: return .default
        }
    }
}

/// Asks the reason for acknowledging a WARN (`FLD-ACK`: 1–500 characters, not blank).
struct AcknowledgeSheet: View {
    let issue: IssueRow
    let done: (String) -> Void

    @Environment(\.dismiss) private var dismiss
    @State private var reason = ""

    var body: some View {
        NavigationStack {
            Form {
                Section("Warning") { IssueLine(issue: issue) }
                Section("Reason (required)") {
                    TextField("Why is this acceptable?", text: $reason, axis: .vertical)
                    Text("\(reason.count)/500").font(.caption2).foregroundStyle(.secondary)
                }
            }
            .navigationTitle("Acknowledge \(issue.ruleId)")
            .toolbar {
                ToolbarItem(placement: .cancellationAction) { Button("Cancel") { dismiss() } }
                ToolbarItem(placement: .confirmationAction) {
                    Button("Acknowledge") {
                        done(reason)
                        dismiss()
                    }
                    .disabled(reason.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty || reason.count > 500)
                }
            }
        }
    }
}

/// The blocking issues of a record (what sign/submit needs), each WARN with its acknowledgement.
struct BlockersSection: View {
    let title: String
    let issues: [IssueRow]
    let acknowledge: (IssueRow) -> Void

    var body: some View {
        Section(title) {
            if issues.isEmpty {
                Label("Nothing blocks", systemImage: "checkmark.circle").foregroundStyle(.green)
            }
            ForEach(issues, id: \.self) { issue in
                IssueLine(issue: issue, acknowledge: acknowledge)
            }
        }
    }
}

/// A code as a person reads it: `needs_trunk_support` → `needs trunk support`.
/// An equipment category as the picker lists it.
func categoryName(_ c: EquipmentCategory) -> String {
    switch c {
    case .specialistSeating: return "specialist seating"
    case .bathingAids: return "bathing aids"
    case .toiletingAids: return "toileting aids"
    case .standingFrames: return "standing frames"
    case .bedsCots: return "beds, cots"
    case .hoistsSlings: return "hoists, slings"
    case .minorAdaptation: return "minor adaptation"
    case .majorAdaptation: return "major adaptation"
    case .other: return "other"
    case .wheelchair: return "wheelchair"
    }
}

func readable(_ code: String?) -> String {
    guard let code, !code.isEmpty else { return "—" }
    return code.replacingOccurrences(of: "_", with: " ")
}
