// The home-visit assessment form, sections A–J (DOMAIN.md §3.4): which fields each section
// shows. Paths are the document paths (`sections.D.entrance_steps.riser_max_mm`); ranges and
// required-ness are the core's (its issues come back with rule IDs).
// Mirrors android/homevisit/src/main/kotlin/app/homevisit/presenters/AssessmentForm.kt.
import Foundation

/// A list of items inside a section (`CF-LIST`), added one at a time.
public struct ListSpec: Equatable, Sendable {
    public let path: String
    public let label: String
    public let itemFields: [FieldSpec]
}

/// One section of the form.
public struct SectionSpec: Equatable, Sendable {
    public let id: String
    public let title: String
    public let fields: [FieldSpec]
    public let lists: [ListSpec]

    init(_ id: String, _ title: String, _ fields: [FieldSpec], _ lists: [ListSpec] = []) {
        self.id = id
        self.title = title
        self.fields = fields
        self.lists = lists
    }
}

public enum AssessmentForm {
    private static let s = "sections"
    private static let levels = [
        "independent", "independent_with_equipment", "supervision_or_prompts", "some_assistance",
        "full_assistance", "not_expected_for_age", "not_assessed",
    ]
    private static let ynu = ["yes", "no", "unsure"]
    private static let risk = ["none", "low", "significant", "high"]
    private static let teams = ["autism_spectrum_team", "behaviour_and_tuition_team", "camhs", "community_ld_nurse_team"]
    private static let floors = ["ground", "first", "other"]

    /// The C areas (`HV-C-AREAS`: a level for each).
    public static let areas: [(String, String)] = [
        ("play", "Play"), ("eating_drinking", "Eating and drinking"), ("washing_bathing", "Washing and bathing"),
        ("teeth", "Teeth"), ("toileting", "Toileting"), ("dressing", "Dressing"),
        ("school_life_skills", "School and life skills"), ("managing_at_school", "Managing at school"),
        ("mobility_transfers", "Mobility and transfers"),
    ]

    private static func f(_ section: String, _ path: String, _ label: String, _ kind: FieldKind,
                          _ options: [String] = [], unit: String? = nil) -> FieldSpec {
        FieldSpec(path: "\(s).\(section).\(path)", label: label, kind: kind, options: options, unit: unit)
    }

    public static let sections: [SectionSpec] = [
        SectionSpec(
            "A", "Visit",
            [
                f("A", "visit_date", "Visit date", .date),
                f("A", "start_time", "Start time", .time),
                f("A", "end_time", "End time", .time),
                f("A", "location", "Location", .code, ["child_home", "school", "clinic_redgrave", "clinic_kempston", "respite_setting", "other"]),
                f("A", "identity_checked", "Identity checked (at least 2)", .codeSet, ["name", "dob", "nhs_number", "address"]),
                f("A", "consent.scope", "Consent scope", .codeSet, ["assessment", "photos", "information_sharing"]),
                f("A", "consent.by", "Consent given by", .code, ["parental_responsibility", "young_person_16_plus", "competent_child", "local_authority_or_court"]),
                f("A", "interpreter.used", "Interpreter used", .flag),
                f("A", "interpreter.language", "Interpreter language", .text),
            ],
            [ListSpec(path: "\(s).A.people_present", label: "People present", itemFields: [
                FieldSpec(path: "name", label: "Name", kind: .text),
                FieldSpec(path: "relationship", label: "Relationship", kind: .text),
            ])]
        ),
        SectionSpec(
            "B", "Background",
            [
                f("B", "presenting_concerns", "Presenting concerns", .longText),
                f("B", "child_views", "The child's views", .longText),
                f("B", "communication", "Communication", .longText),
                f("B", "function_vs_development", "Function vs development", .code, ["not_in_line", "in_line", "unsure"]),
            ],
            [ListSpec(path: "\(s).B.diagnoses", label: "Diagnoses", itemFields: [FieldSpec(path: "text", label: "Diagnosis", kind: .text)])]
        ),
        SectionSpec(
            "C", "Function",
            areas.flatMap { area -> [FieldSpec] in
                [
                    f("C", "areas.\(area.0).level", "\(area.1): level", .code, levels),
                    f("C", "areas.\(area.0).in_line_with_development", "\(area.1): in line with development", .code, ynu),
                ]
            }
        ),
        SectionSpec(
            "D", "Home environment",
            [
                f("D", "property_type", "Property type", .code, ["house", "bungalow", "flat_ground", "flat_upper", "maisonette"]),
                f("D", "tenure", "Tenure", .code, ["owner", "council", "housing_association", "private_rent", "other"]),
                f("D", "entrance_steps.count", "Entrance steps", .integer),
                f("D", "entrance_steps.riser_max_mm", "Highest riser", .integer, unit: "mm"),
                f("D", "internal_stairs.count", "Internal stairs", .integer),
                f("D", "internal_stairs.stairlift", "Stairlift", .flag),
                f("D", "bedroom_level", "Bedroom level", .code, floors),
                f("D", "bathroom_level", "Bathroom level", .code, floors),
                f("D", "toilet_level", "Toilet level", .code, floors),
                f("D", "access_issues", "Access issues", .codeSet, ["home_entry", "bedroom", "toilet", "washing"]),
            ],
            [ListSpec(path: "\(s).D.door_widths", label: "Door widths", itemFields: [
                FieldSpec(path: "location", label: "Where", kind: .text),
                FieldSpec(path: "clear_width_mm", label: "Clear width", kind: .integer, unit: "mm"),
            ])]
        ),
        SectionSpec(
            "E", "Seating and posture",
            [
                f("E", "seating_need", "Seating need", .flag),
                f("E", "sitting_ability", "Sitting ability", .code, ["unable", "needs_full_support", "needs_trunk_support", "hands_dependent", "hands_free"]),
                f("E", "purposes", "Purposes", .codeSet, ["milestones", "postural_alignment"]),
                f("E", "postural_risks", "Postural risks", .codeSet, ["contractures", "spinal_curvature", "aspiration", "reflux"]),
                f("E", "tilt_in_space_deg", "Tilt in space", .integer, unit: "°"),
                f("E", "seat_to_back_angle_deg", "Seat to back angle", .integer, unit: "°"),
                f("E", "current_seating", "Current seating", .longText),
                f("E", "recommendation", "Recommendation", .longText),
            ]
        ),
        SectionSpec(
            "F", "Moving and handling",
            [
                f("F", "mh_concern", "M&H concern", .flag),
                f("F", "carers_required", "Carers required", .integer),
                f("F", "risk_assessment_planned_on", "Risk assessment planned on", .date),
            ]
        ),
        SectionSpec(
            "G", "Shared care",
            [f("G", "young_carers", "Young carers", .flag)],
            [ListSpec(path: "\(s).G.shared_care", label: "Shared care", itemFields: [
                FieldSpec(path: "setting", label: "Setting", kind: .code, options: ["respite", "short_breaks", "school", "other_household", "other"]),
                FieldSpec(path: "carer_count", label: "Carers", kind: .integer),
            ])]
        ),
        SectionSpec(
            "H", "Behaviour and safeguarding",
            [
                f("H", "behaviour_concern", "Behaviour concern", .flag),
                f("H", "risk_to.child", "Risk to the child", .code, risk),
                f("H", "risk_to.carers", "Risk to carers", .code, risk),
                f("H", "risk_to.siblings", "Risk to siblings", .code, risk),
                f("H", "behaviour_addressed_by", "Addressed by", .codeSet, teams),
                f("H", "behaviour_assessment", "Behaviour assessment", .longText),
                f("H", "safeguarding_raised", "Safeguarding raised", .flag),
                f("H", "safeguarding_reference", "Safeguarding reference", .text),
            ]
        ),
        SectionSpec(
            "I", "Goals and recommendations",
            [f("I", "next_review_on", "Next review", .date)],
            [
                ListSpec(path: "\(s).I.goals", label: "Goals", itemFields: [
                    FieldSpec(path: "text", label: "Goal", kind: .text),
                    FieldSpec(path: "target_date", label: "Target date", kind: .date),
                ]),
                ListSpec(path: "\(s).I.recommendations", label: "Recommendations", itemFields: [
                    FieldSpec(path: "kind", label: "Kind", kind: .code, options: ["equipment", "minor_adaptation", "dfg", "advice", "training", "onward_referral", "graduated_offer"]),
                    FieldSpec(path: "text", label: "Recommendation", kind: .text),
                ]),
            ]
        ),
        // J is the signature block: the sign-off screen (SignOffViewModel) shows and acts on it.
        SectionSpec("J", "Sign-off", []),
    ]

    public static func field(_ path: String) -> FieldSpec? {
        sections.flatMap(\.fields).first { $0.path == path }
    }
}
