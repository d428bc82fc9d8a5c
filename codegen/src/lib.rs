//! ampygen: one source of truth for the AmpyFin bus contract.

pub mod canonical;
