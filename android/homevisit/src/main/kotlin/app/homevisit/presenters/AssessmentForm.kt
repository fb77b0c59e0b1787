// The home-visit assessment form, sections A–J (DOMAIN.md §3.4): which fields each section
// shows. Paths are the document paths (`sections.D.entrance_steps.riser_max_mm`); ranges and
// required-ness are the core's (its issues come back with rule IDs).
package app.homevisit.presenters

/** A list of items inside a section (`CF-LIST`), added one at a time. */
data class ListSpec(val path: String, val label: String, val itemFields: List<FieldSpec>)

/** One section of the form. */
data class SectionSpec(val id: String, val title: String, val fields: List<FieldSpec>, val lists: List<ListSpec> = emptyList())

object AssessmentForm {
    private const val S = "sections"
    private val LEVELS = listOf(
        "independent", "independent_with_equipment", "supervision_or_prompts", "some_assistance",
        "full_assistance", "not_expected_for_age", "not_assessed",
    )
    private val YNU = listOf("yes", "no", "unsure")
    private val RISK = listOf("none", "low", "significant", "high")
    private val TEAMS = listOf("autism_spectrum_team", "behaviour_and_tuition_team", "camhs", "community_ld_nurse_team")
    private val FLOORS = listOf("ground", "first", "other")

    /** The C areas (`HV-C-AREAS`: a level for each). */
    val AREAS = listOf(
        "play" to "Play", "eating_drinking" to "Eating and drinking", "washing_bathing" to "Washing and bathing",
        "teeth" to "Teeth", "toileting" to "Toileting", "dressing" to "Dressing",
        "school_life_skills" to "School and life skills", "managing_at_school" to "Managing at school",
        "mobility_transfers" to "Mobility and transfers",
    )

    private fun f(section: String, path: String, label: String, kind: FieldKind, options: List<String> = emptyList(), unit: String? = null) =
        FieldSpec("$S.$section.$path", label, kind, options, unit)

    val SECTIONS: List<SectionSpec> = listOf(
        SectionSpec(
            "A", "Visit",
            listOf(
                f("A", "visit_date", "Visit date", FieldKind.DATE),
                f("A", "start_time", "Start time", FieldKind.TIME),
                f("A", "end_time", "End time", FieldKind.TIME),
                f("A", "location", "Location", FieldKind.CODE, listOf("child_home", "school", "clinic_redgrave", "clinic_kempston", "respite_setting", "other")),
                f("A", "identity_checked", "Identity checked (at least 2)", FieldKind.CODE_SET, listOf("name", "dob", "nhs_number", "address")),
                f("A", "consent.scope", "Consent scope", FieldKind.CODE_SET, listOf("assessment", "photos", "information_sharing")),
                f("A", "consent.by", "Consent given by", FieldKind.CODE, listOf("parental_responsibility", "young_person_16_plus", "competent_child", "local_authority_or_court")),
                f("A", "interpreter.used", "Interpreter used", FieldKind.FLAG),
                f("A", "interpreter.language", "Interpreter language", FieldKind.TEXT),
            ),
            listOf(ListSpec("$S.A.people_present", "People present", listOf(FieldSpec("name", "Name", FieldKind.TEXT), FieldSpec("relationship", "Relationship", FieldKind.TEXT)))),
        ),
        SectionSpec(
            "B", "Background",
            listOf(
                f("B", "presenting_concerns", "Presenting concerns", FieldKind.LONG_TEXT),
                f("B", "child_views", "The child's views", FieldKind.LONG_TEXT),
                f("B", "communication", "Communication", FieldKind.LONG_TEXT),
                f("B", "function_vs_development", "Function vs development", FieldKind.CODE, listOf("not_in_line", "in_line", "unsure")),
            ),
            listOf(ListSpec("$S.B.diagnoses", "Diagnoses", listOf(FieldSpec("text", "Diagnosis", FieldKind.TEXT)))),
        ),
        SectionSpec(
            "C", "Function",
            AREAS.flatMap { (k, label) ->
                listOf(
                    f("C", "areas.$k.level", "$label: level", FieldKind.CODE, LEVELS),
                    f("C", "areas.$k.in_line_with_development", "$label: in line with development", FieldKind.CODE, YNU),
                )
            },
        ),
        SectionSpec(
            "D", "Home environment",
            listOf(
                f("D", "property_type", "Property type", FieldKind.CODE, listOf("house", "bungalow", "flat_ground", "flat_upper", "maisonette")),
                f("D", "tenure", "Tenure", FieldKind.CODE, listOf("owner", "council", "housing_association", "private_rent", "other")),
                f("D", "entrance_steps.count", "Entrance steps", FieldKind.INTEGER),
                f("D", "entrance_steps.riser_max_mm", "Highest riser", FieldKind.INTEGER, unit = "mm"),
                f("D", "internal_stairs.count", "Internal stairs", FieldKind.INTEGER),
                f("D", "internal_stairs.stairlift", "Stairlift", FieldKind.FLAG),
                f("D", "bedroom_level", "Bedroom level", FieldKind.CODE, FLOORS),
                f("D", "bathroom_level", "Bathroom level", FieldKind.CODE, FLOORS),
                f("D", "toilet_level", "Toilet level", FieldKind.CODE, FLOORS),
                f("D", "access_issues", "Access issues", FieldKind.CODE_SET, listOf("home_entry", "bedroom", "toilet", "washing")),
            ),
            listOf(ListSpec("$S.D.door_widths", "Door widths", listOf(FieldSpec("location", "Where", FieldKind.TEXT), FieldSpec("clear_width_mm", "Clear width", FieldKind.INTEGER, unit = "mm")))),
        ),
        SectionSpec(
            "E", "Seating and posture",
            listOf(
                f("E", "seating_need", "Seating need", FieldKind.FLAG),
                f("E", "sitting_ability", "Sitting ability", FieldKind.CODE, listOf("unable", "needs_full_support", "needs_trunk_support", "hands_dependent", "hands_free")),
                f("E", "purposes", "Purposes", FieldKind.CODE_SET, listOf("milestones", "postural_alignment")),
                f("E", "postural_risks", "Postural risks", FieldKind.CODE_SET, listOf("contractures", "spinal_curvature", "aspiration", "reflux")),
                f("E", "tilt_in_space_deg", "Tilt in space", FieldKind.INTEGER, unit = "°"),
                f("E", "seat_to_back_angle_deg", "Seat to back angle", FieldKind.INTEGER, unit = "°"),
                f("E", "current_seating", "Current seating", FieldKind.LONG_TEXT),
                f("E", "recommendation", "Recommendation", FieldKind.LONG_TEXT),
            ),
        ),
        SectionSpec(
            "F", "Moving and handling",
            listOf(
                f("F", "mh_concern", "M&H concern", FieldKind.FLAG),
                f("F", "carers_required", "Carers required", FieldKind.INTEGER),
                f("F", "risk_assessment_planned_on", "Risk assessment planned on", FieldKind.DATE),
            ),
        ),
        SectionSpec(
            "G", "Shared care",
            listOf(f("G", "young_carers", "Young carers", FieldKind.FLAG)),
            listOf(ListSpec("$S.G.shared_care", "Shared care", listOf(FieldSpec("setting", "Setting", FieldKind.CODE, listOf("respite", "short_breaks", "school", "other_household", "other")), FieldSpec("carer_count", "Carers", FieldKind.INTEGER)))),
        ),
        SectionSpec(
            "H", "Behaviour and safeguarding",
            listOf(
                f("H", "behaviour_concern", "Behaviour concern", FieldKind.FLAG),
                f("H", "risk_to.child", "Risk to the child", FieldKind.CODE, RISK),
                f("H", "risk_to.carers", "Risk to carers", FieldKind.CODE, RISK),
                f("H", "risk_to.siblings", "Risk to siblings", FieldKind.CODE, RISK),
                f("H", "behaviour_addressed_by", "Addressed by", FieldKind.CODE_SET, TEAMS),
                f("H", "behaviour_assessment", "Behaviour assessment", FieldKind.LONG_TEXT),
                f("H", "safeguarding_raised", "Safeguarding raised", FieldKind.FLAG),
                f("H", "safeguarding_reference", "Safeguarding reference", FieldKind.TEXT),
            ),
        ),
        SectionSpec(
            "I", "Goals and recommendations",
            listOf(f("I", "next_review_on", "Next review", FieldKind.DATE)),
            listOf(
                ListSpec("$S.I.goals", "Goals", listOf(FieldSpec("text", "Goal", FieldKind.TEXT), FieldSpec("target_date", "Target date", FieldKind.DATE))),
                ListSpec(
                    "$S.I.recommendations", "Recommendations",
                    listOf(
                        FieldSpec("kind", "Kind", FieldKind.CODE, listOf("equipment", "minor_adaptation", "dfg", "advice", "training", "onward_referral", "graduated_offer")),
                        FieldSpec("text", "Recommendation", FieldKind.TEXT),
                    ),
                ),
            ),
        ),
        // J is the signature block: the sign-off screen (SignOffPresenter) shows and acts on it.
        SectionSpec("J", "Sign-off", emptyList()),
    )

    fun field(path: String): FieldSpec? = SECTIONS.flatMap { it.fields }.firstOrNull { it.path == path }
}
