//! An accumulator of spanned errors.

/// Collects errors so that every check runs and they all show in one
/// build, instead of the user fixing them one rebuild at a time.
#[derive(Default)]
pub struct Errors {
    first: Option<syn::Error>,
}

impl Errors {
    pub fn push(&mut self, error: syn::Error) {
        match &mut self.first {
            Some(first) => first.combine(error),
            None => self.first = Some(error),
        }
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
