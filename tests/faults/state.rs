//! TODO
pub fn checkpoint_forever() {}
