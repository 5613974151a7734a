//! Use cases: one function per business action, each in one write transaction that checks
//! permissions, applies domain rules, writes, and appends audit rows and outbox events.

pub mod account_imports;
pub mod account_sync;
pub mod accounts;
pub mod acting;
pub mod api_tokens;
pub mod approvals;
pub mod auth;
pub mod branding;
pub mod carts;
pub mod catalog;
mod catalog_cache;
pub mod catalogs;
pub mod categories;
pub mod commissions;
pub mod credit_notes;
pub mod dashboards;
pub mod evaluation;
pub mod exports;
pub mod idempotency;
pub mod import_jobs;
pub mod imports;
pub mod inventory;
pub mod invoice_pdf;
pub mod invoices;
pub mod licences;
pub mod mail;
pub mod orders;
pub mod payment_imports;
pub mod payment_provider;
pub mod payments;
pub mod price_admin;
pub mod price_list_imports;
pub mod price_lists;
pub mod product_images;
pub mod product_imports;
pub mod queues;
pub mod quotes;
pub mod routing;
pub mod setup;
pub mod statements;
pub mod stock_imports;
pub mod tax;
mod unapply;
pub mod users;
pub mod warehouses;
pub mod webhooks;

use crate::domain::auth::{ActorChannel, Permission, Principal};
use crate::store::{Tx, audit};

/// Who performs an action and through which channel.
#[derive(Clone, Copy)]
pub struct Actor<'a> {
    pub principal: &'a Principal,
    /// Recorded on the audit rows, events and stock movements the action writes.
    pub channel: ActorChannel,
    /// The account a staff member is acting for, if any.
    pub on_behalf_of: Option<&'a str>,
}

impl<'a> Actor<'a> {
    pub fn web(principal: &'a Principal) -> Actor<'a> {
        let channel = if principal.is_staff() { ActorChannel::Staff } else { ActorChannel::Portal };
        Actor { principal, channel, on_behalf_of: None }
    }

    /// An integration calling the API with its token.
    pub fn api(principal: &'a Principal) -> Actor<'a> {
        Actor { principal, channel: ActorChannel::Api, on_behalf_of: None }
    }

    /// An operator on the command line (`portico user`, `import`, `export`).
    pub fn cli(principal: &'a Principal) -> Actor<'a> {
        Actor { principal, channel: ActorChannel::Cli, on_behalf_of: None }
    }

    /// Checks a permission of staff pages and API tokens: staff (and tokens) without it get 403;
    /// anyone else — buyers — 404, as if the thing did not exist.
    pub fn require(&self, p: Permission) -> ServiceResult<()> {
        match self.principal.can(p) {
            true => Ok(()),
            false if self.principal.is_staff() => Err(ServiceError::Forbidden),
            false => Err(ServiceError::NotFound),
        }
    }
}

/// An [`Actor`] that owns what it names: what a unit of work carries to the writer
/// ([`crate::store::Db::write`]), which may outlive the request.
#[derive(Clone, Debug)]
pub struct OwnedActor {
    pub principal: Principal,
    pub channel: ActorChannel,
    pub on_behalf_of: Option<String>,
}

impl OwnedActor {
    pub fn actor(&self) -> Actor<'_> {
        Actor { principal: &self.principal, channel: self.channel, on_behalf_of: self.on_behalf_of.as_deref() }
    }
}

impl Actor<'_> {
    pub fn owned(&self) -> OwnedActor {
        OwnedActor {
            principal: self.principal.clone(),
            channel: self.channel,
            on_behalf_of: self.on_behalf_of.map(str::to_string),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// The object does not exist *for this actor* (also used for other tenants' objects).
    #[error("not found")]
    NotFound,
    #[error("you do not have permission to do this")]
    Forbidden,
    #[error("invalid input")]
    Invalid(Vec<FieldError>),
    #[error("{0}")]
    Conflict(String),
    #[error("wrong e-mail or password")]
    BadCredentials,
    #[error("too many attempts; try again in {retry_after} s")]
    Throttled { retry_after: i64 },
    /// The order (or some of its lines) cannot be placed; every reason is listed.
    #[error("the order cannot be placed")]
    Blocked(Vec<crate::domain::orders::LineIssue>),
    /// An idempotency key was reused with a different request.
    #[error("this idempotency key was used for a different request")]
    IdempotencyMismatch,
    /// A request with this idempotency key is still being processed.
    #[error("a request with this idempotency key is still in progress")]
    InFlight,
    /// A request body (an upload) above its documented limit: 413.
    #[error("{0}")]
    TooLarge(String),
    #[error("database error: {0}")]
    Store(#[source] sqlx::Error),
    #[error("internal error: {0}")]
    Internal(String),
}

pub type ServiceResult<T> = Result<T, ServiceError>;

impl From<sqlx::Error> for ServiceError {
    /// A backstop for text that reached a query without the text rule (every input is checked
    /// where it enters a service; see [`check_texts`]): PostgreSQL refuses a NUL in text
    /// (SQLSTATE 22021, "invalid byte sequence"). That is the caller's input, not a fault of ours:
    /// 422, never 500.
    fn from(e: sqlx::Error) -> ServiceError {
        let refused_text = e.as_database_error().and_then(|d| d.code()).is_some_and(|c| c == "22021");
        if refused_text {
            tracing::warn!(error = %e, "text with a control character reached a query");
            return ServiceError::invalid("input", "The request contains a control character (NUL); remove it.");
        }
        ServiceError::Store(e)
    }
}

impl crate::store::UnitError for ServiceError {
    fn store_error(&self) -> Option<&sqlx::Error> {
        match self {
            ServiceError::Store(e) => Some(e),
            _ => None,
        }
    }
}

impl ServiceError {
    pub fn invalid(field: &str, message: impl Into<String>) -> ServiceError {
        ServiceError::Invalid(vec![FieldError { field: field.to_string(), message: message.into() }])
    }

    pub fn from_problems(problems: Vec<(String, String)>) -> ServiceResult<()> {
        if problems.is_empty() {
            Ok(())
        } else {
            Err(ServiceError::Invalid(
                problems.into_iter().map(|(field, message)| FieldError { field, message }).collect(),
            ))
        }
    }
}

/// The problems of text inputs under the one text rule of every channel
/// ([`crate::domain::input::check_text`]): each `(field, value)` of `lines` is one line, each of
/// `multiline` may span lines; none holds a control character. The message names the field too,
/// since pages list messages without their fields.
pub(crate) fn text_problems(lines: &[(&str, &str)], multiline: &[(&str, &str)]) -> Vec<(String, String)> {
    use crate::domain::input::{TextKind, check_text};
    let line = lines.iter().map(|f| (f, TextKind::Line));
    let multi = multiline.iter().map(|f| (f, TextKind::Multiline));
    line.chain(multi)
        .filter_map(|((field, value), kind)| {
            check_text(value, kind).err().map(|e| (field.to_string(), format!("{field} {e}.")))
        })
        .collect()
}

/// [`text_problems`] as a 422 naming every field, before anything is read or written.
pub(crate) fn check_texts(lines: &[(&str, &str)], multiline: &[(&str, &str)]) -> ServiceResult<()> {
    ServiceError::from_problems(text_problems(lines, multiline))
}

/// An id or reference from a path or link (not a field someone filled in): text with a control
/// character names nothing, so it is 404 like any unknown id — before it reaches a query, where
/// PostgreSQL would refuse it.
pub(crate) fn names_nothing(reference: &str) -> ServiceResult<()> {
    match crate::domain::input::check_text(reference, crate::domain::input::TextKind::Line) {
        Ok(()) => Ok(()),
        Err(_) => Err(ServiceError::NotFound),
    }
}

/// A whole number input within its bounds ([`crate::domain::input`]), as a 422 naming the field.
pub(crate) fn check_number(field: &str, value: i64, min: i64, max: i64) -> ServiceResult<i64> {
    crate::domain::input::check_range(value, min, max)
        .map_err(|e| ServiceError::invalid(field, format!("{field}: {e}.")))
}

/// Appends the audit row of a change inside its transaction.
pub(crate) async fn audit(
    tx: &mut Tx,
    actor: Option<&Actor<'_>>,
    now: i64,
    action: &str,
    object: (&str, &str),
    before: Option<serde_json::Value>,
    after: Option<serde_json::Value>,
) -> ServiceResult<()> {
    audit::append(tx, &audit_entry(actor, now, action, object, before, after)).await?;
    Ok(())
}

/// [`audit`], and the outbox event named `action` with `payload` (the audit row's `after`),
/// serialised once for both.
pub(crate) async fn audit_and_publish(
    tx: &mut Tx,
    actor: Option<&Actor<'_>>,
    now: i64,
    action: &str,
    object: (&str, &str),
    before: Option<serde_json::Value>,
    payload: serde_json::Value,
) -> ServiceResult<()> {
    audit::append_and_enqueue(tx, &audit_entry(actor, now, action, object, before, Some(payload))).await?;
    Ok(())
}

fn audit_entry<'a>(
    actor: Option<&'a Actor<'_>>,
    now: i64,
    action: &'a str,
    object: (&'a str, &'a str),
    before: Option<serde_json::Value>,
    after: Option<serde_json::Value>,
) -> audit::AuditEntry<'a> {
    audit::AuditEntry {
        at: now,
        actor_user_id: actor.map(|a| a.principal.user_id.as_str()),
        on_behalf_of_account_id: actor.and_then(|a| a.on_behalf_of),
        channel: actor.map(|a| a.channel).unwrap_or(ActorChannel::System).as_str(),
        action,
        object_type: object.0,
        object_id: object.1,
        before,
        after,
    }
}
