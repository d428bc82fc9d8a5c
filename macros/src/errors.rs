//! An accumulator of spanned errors.

/// Collects errors so that every check runs and they all show in one
/// build, instead of the user fixing them one rebuild at a time.
#[derive(Default)]
pub struct Errors {
    first: Option<syn::Error>,
    count: usize,
}

impl Errors {
    pub fn push(&mut self, error: syn::Error) {
        self.count += 1;
        match &mut self.first {
            Some(first) => first.combine(error),
            None => self.first = Some(error),
        }
    }

    /// How many errors were pushed so far, so a check can tell whether
    /// its own steps added any.
    pub fn count(&self) -> usize {
        self.count
    }

    /// The collected errors as `compile_error!`s (nothing when there are
    /// none), for expansions that still emit their items so that one
    /// mistake does not cascade into errors elsewhere.
    pub fn to_compile_errors(&self) -> proc_macro2::TokenStream {
        self.first.as_ref().map(syn::Error::to_compile_error).unwrap_or_default()
    }

    /// `Err` with every error collected so far, or `Ok(())`; the
    /// accumulator is empty afterwards.
    pub fn finish(&mut self) -> Result<(), syn::Error> {
        match self.first.take() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}
