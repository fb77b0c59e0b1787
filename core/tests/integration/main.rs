//! One test binary for the crate's integration tests: each module was once its own binary,
//! and linking automerge and SQLCipher into every one of them dominated the build.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod doc_props;
mod doc_records;
mod fhir_export;
mod hostile_documents;
mod photos;
mod records_audit;
mod records_care;
mod records_flow;
mod reports;
mod rule_index;
mod rules_clinical_review;
mod rules_eligibility;
mod rules_eligibility_records;
mod rules_forms_assessment;
mod rules_forms_equipment;
mod rules_forms_mh;
mod rules_forms_serde;
mod rules_forms_support;
mod rules_forms_workflow;
mod store_crash;
mod store_durability;
mod store_encryption;
mod store_events;
mod store_migration;
mod store_op_limit;
mod store_open_create;
mod store_round_trip;
mod store_support;
