//! The API's input: extractors that answer problem+json and name the field, and the bounds every
//! request body is held to — the same bounds its schema declares, so the OpenAPI document says
//! exactly what is refused (the fuzzer in `.ci/fuzz` sends what the schema allows and what it
//! does not, and checks both answers).
//!
//! The bounds mirror the services' own (quantities, stock levels and deltas, amounts, text without
//! control characters); checking them here as well means a request is refused before any service
//! runs, and the schema and the check sit side by side in this module's callers.

use super::{ApiError, ProblemField};
use crate::service::idempotency::IdemKey;
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use serde_json::Value;

// The bounds the document declares are the domain's own (one place: `domain::input`).
pub use crate::domain::input::{MAX_PRIORITY, MAX_QUANTITY, MAX_SORT, MAX_STOCK_DELTA, MAX_STOCK_LEVEL};
/// Lines of one order or quote.
pub const MAX_LINES: usize = crate::service::orders::MAX_LINES;
/// An order's `version` and a Unix time in seconds: 0 ..= this (9999-12-31).
pub const MAX_SECONDS: i64 = 253_402_300_799;

/// Text fields that may hold several lines (tab, line feed, carriage return); every other text
/// field is one line.
const MULTILINE_FIELDS: [&str; 2] = ["notes", "description"];

/// Whether a character is refused: every control character, except tab, line feed and carriage
/// return in a multi-line field. (PostgreSQL refuses a NUL outright; the others are never meant.)
fn refused(c: char, multiline: bool) -> bool {
    c.is_control() && !(multiline && matches!(c, '\t' | '\n' | '\r'))
}

/// A JSON body: parsed, held to the text rule, then read into `T` with every problem naming its
/// field (`lines[2].quantity`). A whole number written with a fraction of zero (`5.0`) is read as
/// the integer it is, as JSON Schema counts it one.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let axum::Json(mut value) = axum::Json::<Value>::from_request(req, state).await?;
        // Every body is an object (serde would read a struct from an array, too).
        if !value.is_object() {
            return Err(ApiError::invalid("body", "The body must be a JSON object."));
        }
        let mut problems = Vec::new();
        normalize(&mut value, "", false, &mut problems);
        ApiError::fields(problems)?;
        serde_path_to_error::deserialize(value).map(ApiJson).map_err(|e| {
            let path = e.path().to_string();
            let field = if path == "." { "body".to_string() } else { path };
            ApiError::invalid(&field, e.into_inner().to_string())
        })
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() { key.to_string() } else { format!("{path}.{key}") }
}

fn normalize(value: &mut Value, path: &str, multiline: bool, problems: &mut Vec<ProblemField>) {
    match value {
        Value::String(s) => {
            if let Some((i, c)) = s.chars().enumerate().find(|(_, c)| refused(*c, multiline)) {
                problems.push(text_problem(path, i, c));
            }
        }
        Value::Number(n) => {
            // 2^53: beyond it a float no longer holds every whole number exactly.
            if let Some(f) = n.as_f64().filter(|f| n.is_f64() && f.fract() == 0.0 && f.abs() <= 9_007_199_254_740_992.0)
            {
                *value = Value::from(f as i64);
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                normalize(item, &format!("{path}[{i}]"), multiline, problems);
            }
        }
        Value::Object(map) => {
            for (key, item) in map.iter_mut() {
                let field = join(path, key);
                if let Some((i, c)) = key.chars().enumerate().find(|(_, c)| refused(*c, false)) {
                    problems.push(text_problem(&field, i, c));
                }
                normalize(item, &field, MULTILINE_FIELDS.contains(&key.as_str()), problems);
            }
        }
        Value::Null | Value::Bool(_) => {}
    }
}

fn text_problem(field: &str, index: usize, c: char) -> ProblemField {
    ProblemField {
        field: if field.is_empty() { "body".into() } else { field.into() },
        message: format!("contains a control character (U+{:04X}) at position {}; remove it", c as u32, index + 1),
        ..Default::default()
    }
}

/// The path's parameters. Their text is checked by the handler: a reference (a SKU to read, an
/// order id) with a control character names nothing ([`reference`]: 404, as any unknown one); a
/// key to create under ([`Checks::line`]) is refused with 422.
pub struct ApiPath<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let Path(value) = Path::<T>::from_request_parts(parts, state).await?;
        Ok(ApiPath(value))
    }
}

/// A reference from the path or query string: one with a control character names nothing, so it
/// is 404 like any unknown reference — before it reaches a query (PostgreSQL refuses a NUL).
/// An uploaded file's body: a `text/csv` content type (else 415), within the route's body limit
/// (`limit` names it for the 413, e.g. "2 MB").
pub fn csv_body(
    headers: &HeaderMap,
    body: Result<axum::body::Bytes, axum::extract::rejection::BytesRejection>,
    limit: &str,
) -> Result<axum::body::Bytes, ApiError> {
    typed_body(headers, body, &["text/csv"], "Send the file as text/csv.", limit).map(|(b, _)| b)
}

/// A body whose content type is one of `accepted` (else 415 saying `hint`), within the route's
/// body limit (`limit` names it for the 413); with the content type it was sent as.
pub fn typed_body(
    headers: &HeaderMap,
    body: Result<axum::body::Bytes, axum::extract::rejection::BytesRejection>,
    accepted: &[&'static str],
    hint: &str,
    limit: &str,
) -> Result<(axum::body::Bytes, &'static str), ApiError> {
    let sent = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(str::trim)
        .unwrap_or("");
    let Some(kind) = accepted.iter().find(|t| t.eq_ignore_ascii_case(sent)) else {
        return Err(ApiError::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, "Unsupported media type", hint));
    };
    let bytes = body.map_err(|r| match r.status() {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "Request too large",
            format!("The file is larger than {limit}."),
        ),
        _ => ApiError::invalid("body", r.body_text()),
    })?;
    Ok((bytes, kind))
}

pub fn reference(value: &str) -> Result<(), ApiError> {
    match value.chars().any(|c| refused(c, false)) {
        false => Ok(()),
        true => {
            Err(ApiError::new(StatusCode::NOT_FOUND, "Not found", "No such object, or not available to this token."))
        }
    }
}

/// The request's `Idempotency-Key`, if it sent one: 1 to 255 visible characters, kept per token
/// (and per `operation`; order placement's keys, the first, have none) and bound to the hash of
/// `body` (canonical JSON — serde_json sorts object keys, so the same JSON in any layout is the
/// same request — or a file's bytes).
pub fn idempotency_key(
    headers: &HeaderMap,
    caller: &super::ApiCaller,
    operation: Option<&str>,
    body: &[u8],
) -> Result<Option<IdemKey>, ApiError> {
    let Some(v) = headers.get("idempotency-key") else { return Ok(None) };
    let key = v.to_str().ok().map(str::trim).filter(|k| !k.is_empty() && k.len() <= 255);
    let key = key.ok_or_else(|| ApiError::invalid("Idempotency-Key", "1 to 255 visible characters"))?;
    let scope = match operation {
        None => format!("api:{}", caller.0.user_id),
        Some(op) => format!("api:{}:{op}", caller.0.user_id),
    };
    Ok(Some(IdemKey::hashed(scope, key, body)))
}

/// The canonical JSON of a request body, for [`idempotency_key`].
pub fn canonical<T: serde::Serialize>(body: &T) -> Result<Vec<u8>, ApiError> {
    serde_json::to_vec(body).map_err(|e| ApiError::invalid("body", e.to_string()))
}

/// A JSON answer recorded under an Idempotency-Key: as first sent, or replayed (with
/// `idempotent-replayed: true`).
pub fn recorded_json(status: i64, body: String, replayed: bool) -> Response {
    let status = StatusCode::from_u16(status as u16).unwrap_or(StatusCode::OK);
    let mut res = (status, body).into_response();
    res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    if replayed {
        res.headers_mut().insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    res
}

/// The query string, every problem naming its parameter. Text parameters are checked by their
/// handler, as path parameters are.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let Query(value) = Query::<T>::from_request_parts(parts, state).await?;
        Ok(ApiQuery(value))
    }
}

/// The bounds of a request, checked all at once; each problem names its field.
#[derive(Default)]
pub struct Checks(Vec<ProblemField>);

impl Checks {
    fn fail(&mut self, field: &str, message: String) {
        self.0.push(ProblemField { field: field.to_string(), message, ..Default::default() });
    }

    pub fn range(&mut self, field: &str, value: i64, min: i64, max: i64) -> &mut Self {
        // The domain's own wording, as the pages and CSV imports give it.
        if let Err(message) = crate::domain::input::check_range(value, min, max) {
            self.fail(field, message);
        }
        self
    }

    pub fn range_opt(&mut self, field: &str, value: Option<i64>, min: i64, max: i64) -> &mut Self {
        if let Some(v) = value {
            self.range(field, v, min, max);
        }
        self
    }

    /// Text of `min ..= max` characters.
    pub fn chars(&mut self, field: &str, value: &str, min: usize, max: usize) -> &mut Self {
        let n = value.chars().count();
        if n < min || n > max {
            self.fail(field, format!("has {n} characters; send {min} to {max}"));
        }
        self
    }

    /// One line of text without control characters (a key in the path, e.g. a new SKU).
    pub fn line(&mut self, field: &str, value: &str) -> &mut Self {
        if let Some((i, c)) = value.chars().enumerate().find(|(_, c)| refused(*c, false)) {
            self.0.push(text_problem(field, i, c));
        }
        self
    }

    /// How many items a list holds.
    pub fn items(&mut self, field: &str, n: usize, min: usize, max: usize) -> &mut Self {
        if n < min || n > max {
            self.fail(field, format!("has {n} items; send {min} to {max}"));
        }
        self
    }

    /// At most `max` (the lower bound is the service's to report, with the rest of the request).
    pub fn at_most(&mut self, field: &str, value: i64, max: i64) -> &mut Self {
        if value > max {
            self.fail(field, format!("{value} is out of range: at most {max}"));
        }
        self
    }

    /// A non-negative amount as a decimal string: up to 12 digits before the point, up to 4 after
    /// (the schema's pattern `^[0-9]{1,12}(\.[0-9]{1,4})?$`). Only what the service would take but
    /// the pattern refuses ("$5", "1,000", a space) is reported here; what neither takes, the
    /// service reports with every other problem of the document.
    pub fn amount(&mut self, field: &str, value: &str) -> &mut Self {
        let (whole, fraction) = match value.split_once('.') {
            Some((w, f)) => (w, Some(f)),
            None => (value, None),
        };
        let digits = |s: &str, max: usize| (1..=max).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit());
        let written_right = digits(whole, 12) && fraction.is_none_or(|f| digits(f, 4));
        let digits_and_point = !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit() || b == b'.');
        if let (true, Err(e)) = (digits_and_point, crate::domain::money::Money::parse_non_negative(value)) {
            // Beyond the amount bound or too precise: refused here, in the domain's own words, so
            // it is listed with every other problem of the request.
            self.fail(field, e.to_string());
        } else if !written_right && crate::domain::money::Money::parse_non_negative(value.trim()).is_ok() {
            self.fail(
                field,
                format!("“{value}”: write an amount with digits and a point only, e.g. 12.50 or 0.0125 (at most 12 digits before the point, 4 after)"),
            );
        }
        self
    }

    /// A day written exactly YYYY-MM-DD (the schema's `format: date`). As with [`Checks::amount`],
    /// only what the service would take (an empty text, spaces around a date) is reported here.
    pub fn date_opt(&mut self, field: &str, value: Option<&str>) -> &mut Self {
        let exact = |v: &str| {
            v.len() == 10
                && v.bytes().enumerate().all(|(i, c)| if i == 4 || i == 7 { c == b'-' } else { c.is_ascii_digit() })
                && crate::domain::pricing::parse_iso_date(v).is_some()
        };
        if let Some(v) = value.filter(|v| !exact(v)) {
            let t = v.trim();
            if t.is_empty() || crate::domain::pricing::parse_iso_date(t).is_some() {
                self.fail(field, format!("“{v}” is not a date: write it YYYY-MM-DD, or leave the field out"));
            }
        }
        self
    }

    /// A field the handler checks itself against its schema's pattern: `ok`, or `message`.
    pub fn holds(&mut self, field: &str, ok: bool, message: &str) -> &mut Self {
        if !ok {
            self.fail(field, message.to_string());
        }
        self
    }

    pub fn done(&mut self) -> Result<(), ApiError> {
        ApiError::fields(std::mem::take(&mut self.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_are_normalized_and_held_to_the_text_rule() {
        let mut v = serde_json::json!({"quantity": 5.0, "notes": "a\nb", "po_number": "x\ny", "lines": [{"sku": "A\u{0}"}], "big": 1e300});
        let mut problems = Vec::new();
        normalize(&mut v, "", false, &mut problems);
        assert_eq!(v["quantity"], serde_json::json!(5));
        assert!(v["quantity"].is_i64());
        assert!(v["big"].is_f64(), "too large to be exact stays a float (and is refused as an integer)");
        let fields: Vec<&str> = problems.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(fields, vec!["lines[0].sku", "po_number"]);
    }

    #[test]
    fn amounts_and_dates_the_service_would_take_but_the_schema_refuses() {
        let mut c = Checks::default();
        c.amount("a", "12.50").amount("b", "0.0125").amount("c", "999999999999.99");
        c.date_opt("d", Some("2025-01-31")).date_opt("e", None);
        assert!(c.done().is_ok());
        for bad in ["1,000", "$5", " 1", "1.", "0123456789012", "1.23456", "01234567890123", "1000000000000"] {
            assert!(Checks::default().amount("a", bad).done().is_err(), "{bad:?}");
        }
        // Left to the service, reported with everything else.
        for theirs in ["x", "-1"] {
            assert!(Checks::default().amount("a", theirs).done().is_ok(), "{theirs:?}");
        }
        for bad in ["", " 2025-01-31"] {
            assert!(Checks::default().date_opt("d", Some(bad)).done().is_err(), "{bad:?}");
        }
        assert!(Checks::default().date_opt("d", Some("2025-02-30")).done().is_ok(), "the service reports it");
    }
}
