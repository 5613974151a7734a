//! Refused forms: a form whose input the service refuses comes back as the same page, inside the
//! shell, with every reason next to its field and what was typed kept. Handlers keep the form
//! struct exactly as typed (strings), turn the refusal into a [`Refusal`] and render their page
//! again with it; the page asks `refusal.field("name")` for the message of a field.
//!
//! Server-side validation stays authoritative: nothing here checks anything, it only carries the
//! service's own `FieldError`s back to the page.

use super::error::WebError;
use crate::service::{FieldError, ServiceError};
use axum::http::StatusCode;

/// The problems of one refused form, and which form of the page it was (a page may hold several).
#[derive(Debug, Default)]
pub struct Refusal {
    /// Which form of the page was refused (e.g. `stock`, `class`); empty on a page with one form.
    pub form: &'static str,
    pub errors: Vec<FieldError>,
    /// The input was fine but the state refused it (409), e.g. not enough stock to remove.
    pub conflict: bool,
}

impl Refusal {
    /// No refusal: the page as first shown.
    pub fn none() -> Refusal {
        Refusal::default()
    }

    /// A service error as a form's refusal: bad input (422) keeps its field errors; a conflict
    /// (409) is shown next to `conflict_field`. Anything else is an error page.
    pub fn of(form: &'static str, e: ServiceError, conflict_field: &str) -> Result<Refusal, WebError> {
        match e {
            ServiceError::Invalid(errors) => Ok(Refusal { form, errors, conflict: false }),
            ServiceError::Conflict(message) => {
                Ok(Refusal { form, errors: vec![FieldError { field: conflict_field.into(), message }], conflict: true })
            }
            other => Err(other.into()),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }

    /// Whether `form` is the refused one (its inputs show what was typed, not the stored values).
    pub fn is(&self, form: &str) -> bool {
        !self.errors.is_empty() && self.form == form
    }

    /// The messages for one field of the refused form, joined ("" when it has none).
    pub fn field(&self, field: &str) -> String {
        errors_for(&self.errors, field)
    }

    /// The messages for one field of `form` ("" when another form of the page was refused).
    pub fn field_of(&self, form: &str, field: &str) -> String {
        if self.form == form { self.field(field) } else { String::new() }
    }

    /// Every message of `form` (for a text area of many lines, whose problems name their line).
    pub fn messages_of(&self, form: &str) -> Vec<&str> {
        if self.form == form { self.errors.iter().map(|e| e.message.as_str()).collect() } else { Vec::new() }
    }

    /// 200 as first shown, 422 for bad input, 409 for a conflict.
    pub fn status(&self) -> StatusCode {
        match (self.errors.is_empty(), self.conflict) {
            (true, _) => StatusCode::OK,
            (false, true) => StatusCode::CONFLICT,
            (false, false) => StatusCode::UNPROCESSABLE_ENTITY,
        }
    }
}

/// The messages of `errors` for `field`, joined.
pub fn errors_for(errors: &[FieldError], field: &str) -> String {
    errors.iter().filter(|e| e.field == field).map(|e| e.message.as_str()).collect::<Vec<_>>().join(" ")
}

/// 200 without errors, else 422.
pub fn status_of(errors: &[FieldError]) -> StatusCode {
    if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY }
}

/// A whole number typed in a form ("" is `default`), or a 422 naming the field.
pub fn parse_number(field: &str, label: &str, raw: &str, default: i64) -> Result<i64, ServiceError> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(default);
    }
    raw.parse().map_err(|_| ServiceError::invalid(field, format!("{label}: “{raw}” is not a whole number.")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_names_its_fields_and_status() {
        let r = Refusal::of("stock", ServiceError::invalid("delta", "Not a number."), "delta").unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(r.field("delta"), "Not a number.");
        assert_eq!(r.field_of("class", "delta"), "");
        assert!(r.is("stock") && !r.is("class"));
        let c = Refusal::of("stock", ServiceError::Conflict("Not enough.".into()), "delta").unwrap();
        assert_eq!((c.status(), c.field("delta")), (StatusCode::CONFLICT, "Not enough.".to_string()));
        assert!(Refusal::of("stock", ServiceError::NotFound, "delta").is_err());
        assert_eq!(Refusal::none().status(), StatusCode::OK);
        assert_eq!(parse_number("n", "N", " 7 ", 0).unwrap(), 7);
        assert!(parse_number("n", "N", "ten", 0).is_err());
    }
}
