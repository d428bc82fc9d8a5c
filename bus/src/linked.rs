//! Recomputing the canonical hash from linked types (being written).
