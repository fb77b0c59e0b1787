//! Records as automerge documents (DESIGN.md "Records as automerge documents").
