//! Closed code lists of the domain as FFI enums: the apps match on cases, never compare
//! strings (DOMAIN.md §3.6 for categories, `MH-SCORE` for bands, §2.2 for eligibility).
//! Each mirrors the core's enum, so a new code is a compile error here until it is exported.

use homevisit_core::{
    doc::meta::Action,
    model::{
        common::Schema,
        equipment::{Category, MeasurementKey as CoreKey, ReviewOutcome as CoreReview, Status},
        referral::Signpost as CoreSignpost,
        user::Role as CoreRole,
    },
    rules::{fields::Unit, mh::Band},
};

mirror_enum! {
    /// A user's role (DOMAIN.md §1.4). `System` is the team server's and the equipment-store
    /// feed's: it appears on changes they made, and an app never acts in it (`RK-ATTRIB`).
    Role => CoreRole {
        /// Assistant practitioner.
        Ap,
        /// Occupational therapist.
        Ot,
        /// OT with approval authority.
        Approver,
        /// The team server or the equipment-store feed.
        System,
    }
}

mirror_enum! {
    /// The kind of a record: its document's `schema` (docs/DOCUMENT-LAYOUT.md, root).
    RecordSchema => Schema {
        /// `homevisit/child`.
        Child,
        /// `homevisit/referral`.
        Referral,
        /// `homevisit/assessment`, the home-visit form.
        Assessment,
        /// `homevisit/risk_assessment`, the M&H risk assessment.
        RiskAssessment,
        /// `homevisit/equipment_request`.
        EquipmentRequest,
    }
}

mirror_enum! {
    /// What a change did (`RK-ATTRIB`), as a record's history lists it (`RK-HISTORY`).
    ChangeAction => Action {
        /// Created the record.
        Create,
        /// Edited a field.
        Edit,
        /// Signed (`RK-SIGN`).
        Sign,
        /// Countersigned an AP's signature (`RK-COUNTERSIGN`).
        Countersign,
        /// Added an addendum to a signed record (`RK-ADDENDUM`).
        Addendum,
        /// A person resolved a conflict or sign race (`CF-CLINICAL`, `CF-SIGN-RACE`).
        Resolve,
        /// Moved an equipment request in the workflow.
        Transition,
        /// Marked the record entered in error (`RK-EIE`).
        EnteredInError,
        /// Acknowledged a warning (`FLD-ACK`).
        Ack,
    }
}

mirror_enum! {
    /// Where a family or referrer is pointed when (part of) a referral is not taken (§2.2).
    Signpost => CoreSignpost {
        /// The health service's graduated offer on sensory processing.
        GraduatedOfferSensory,
        /// Ask a professional who knows the child to refer.
        AskProfessionalToRefer,
        /// The Family Partnership Service.
        FamilyPartnershipService,
        /// The wheelchair service, on its own referral.
        WheelchairService,
        /// The behaviour support teams (`S-BEHAVIOUR-GATE`).
        BehaviourSupportTeams,
        /// The paediatric OT service of the child's GP's area (`H-ELIG-GP`).
        OwnAreaService,
        /// Adult OT and social-care services, past the age limit (`H-ELIG-AGE`).
        AdultServices,
    }
}

mirror_enum! {
    /// An equipment category (DOMAIN.md §3.6).
    EquipmentCategory => Category {
        /// Seating systems, supportive chairs.
        SpecialistSeating,
        /// Bath seats and lifts, shower chairs.
        BathingAids,
        /// Toilet seats, frames, steps, commodes.
        ToiletingAids,
        /// Standing frames.
        StandingFrames,
        /// Specialist beds, safe sleeping spaces.
        BedsCots,
        /// Mobile and ceiling hoists, slings.
        HoistsSlings,
        /// Rails, half steps, ramps, lever taps.
        MinorAdaptation,
        /// Level-access shower, extension, through-floor lift (DFG only).
        MajorAdaptation,
        /// Other daily-living equipment.
        Other,
        /// Refused when a request is created: the wheelchair service assesses (`S-WHEELCHAIR`).
        Wheelchair,
    }
}

mirror_enum! {
    /// A row of the AP measurement table (DOMAIN.md §3.6, `EQ-MEAS-REQUIRED`).
    MeasurementKey => CoreKey {
        /// Body mass, kg.
        WeightKg,
        /// Standing height or supine length, cm.
        HeightCm,
        /// Seat to top of head.
        HeadHeightSittingMm,
        /// Seat to top of shoulder.
        ShoulderHeightSittingMm,
        /// Seat to underside of bent elbow.
        ElbowHeightSittingMm,
        /// Widest across hips or thighs.
        HipWidthMm,
        /// Back of buttock to back of knee.
        ThighLengthMm,
        /// Back of knee to floor or footplate, shoes on.
        LowerLegLengthMm,
        /// Prescribed seat depth.
        SeatDepthMm,
        /// Prescribed seat width.
        SeatWidthMm,
        /// Prescribed back height above the seat.
        BackHeightMm,
        /// Prescribed seat to floor.
        SeatToFloorMm,
        /// Floor to pan rim, seat off.
        ToiletPanHeightMm,
        /// Floor to top of bath rim.
        BathRimHeightMm,
        /// Floor to top of mattress.
        BedHeightMm,
        /// Narrowest clear door opening.
        DoorClearWidthMm,
        /// One step's rise.
        StepRiserMm,
    }
}

mirror_enum! {
    /// The unit a whole-number field is stored and shown in; the apps label it.
    MeasurementUnit => Unit {
        /// Integer tenths of a kg, typed and shown with one decimal (`32.4 kg`).
        KgTenths,
        /// Integer tenths of a cm, typed and shown with one decimal.
        CmTenths,
        /// Millimetres.
        Mm,
        /// Degrees.
        Degrees,
        /// Pence, shown as pounds.
        Pence,
        /// A plain count.
        Count,
    }
}

mirror_enum! {
    /// A risk band (`MH-SCORE`), computed from likelihood × severity, never typed.
    RiskBand => Band {
        /// Score 1–3.
        Low,
        /// Score 4–6.
        Moderate,
        /// Score 8–12.
        High,
        /// Score 15–25.
        Extreme,
    }
}

mirror_enum! {
    /// Where an equipment request stands in the workflow (DOMAIN.md §3.6, W1–W19).
    EquipmentStatus => Status {
        /// Being written.
        Draft,
        /// Awaiting a decision.
        Submitted,
        /// The approver asked a question.
        InfoRequested,
        /// Approved.
        Approved,
        /// Declined (terminal).
        Declined,
        /// Ordered from a supplier.
        Ordered,
        /// Delivered.
        Delivered,
        /// Installed.
        Installed,
        /// Reviewed in use.
        Reviewed,
        /// Returned (terminal).
        Returned,
        /// Closed (terminal).
        Closed,
        /// Cancelled (terminal).
        Cancelled,
        /// Referred for a Disabled Facilities Grant.
        ReferredToDfg,
        /// DFG approved.
        DfgApproved,
        /// DFG declined.
        DfgDeclined,
    }
}

mirror_enum! {
    /// The outcome of a review in use (W10).
    ReviewOutcome => CoreReview {
        /// Suitable.
        Suitable,
        /// Needs adjusting.
        Adjust,
        /// Needs replacing.
        Replace,
        /// No longer needed.
        NoLongerNeeded,
    }
}

/// What a workflow move records, which the user must supply (`EQ-REASON`, `EQ-DATES`, …): the
/// field of `TransitionDetails` to fill.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum WorkflowNeed {
    /// `reason`: a question, answer, decline or cancel reason.
    Reason,
    /// `event_date`: the date of the event.
    EventDate,
    /// `supplier` (W7).
    Supplier,
    /// `order_ref` (W7).
    OrderRef,
    /// `contractor` (W9).
    Contractor,
    /// `outcome` (W10).
    Outcome,
    /// `condition` on return (W11).
    Condition,
    /// `housing_authority_ref` (W16).
    HousingAuthorityRef,
}

/// What an eligibility evaluation decided (DOMAIN.md §2.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum EligibilityDecision {
    /// Every criterion met.
    Eligible,
    /// At least one criterion failed; `rule_ids` and `reasons` say which.
    NotEligible,
    /// An input is missing; `missing` lists the field paths.
    NeedsInformation,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_core_category_has_an_ffi_case_and_back() {
        for c in Category::ALL {
            assert_eq!(Category::from(EquipmentCategory::from(c)), c);
        }
    }

    #[test]
    fn a_listed_schema_code_reads_as_its_kind_and_an_unknown_one_as_none() {
        use homevisit_core::doc::record::{parse_schema, schema_code};
        for s in [
            Schema::Child,
            Schema::Referral,
            Schema::Assessment,
            Schema::RiskAssessment,
            Schema::EquipmentRequest,
        ] {
            let kind = parse_schema(schema_code(s)).map(RecordSchema::from);
            assert_eq!(kind.map(Schema::from), Some(s));
        }
        assert_eq!(parse_schema("unknown"), None);
        assert_eq!(parse_schema("homevisit/visit_note"), None);
    }
}
