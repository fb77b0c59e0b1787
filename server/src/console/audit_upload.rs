//! The access-log upload.
