//! TODO
pub fn calls_forever() {}
