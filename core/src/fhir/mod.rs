//! FHIR R4 / UK Core export (DOMAIN.md §7).
