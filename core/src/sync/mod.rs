//! Sync with the team server over the automerge-repo network protocol (DESIGN.md "Sync").
