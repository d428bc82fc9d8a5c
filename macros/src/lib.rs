//! Derive macros for AmpyFin bus payloads (being written).
use proc_macro::TokenStream;

#[proc_macro_derive(Payload, attributes(ampy))]
pub fn derive_payload(_input: TokenStream) -> TokenStream {
    TokenStream::new()
}
