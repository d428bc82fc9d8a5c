//! The canonical schema form and hash, re-exported from `ampy-canonical`
//! so that the runtime can recompute it without pulling in the generator.

pub use ampy_canonical::*;
