//! Accounts for ERP/CRM sync (scopes `accounts:read`, `accounts:write`): list what changed since a
//! time by cursor, read one, and upsert one by the ERP's own id. The account service holds the
//! rules (validation, owning rep, audit, `account.created` / `account.updated` events): the same
//! as the staff pages'.

use super::input::{Checks, reference};
use super::paging::{ChangesParams, cursor_of};
use super::{ApiCaller, ApiError, ApiJson, ApiPath, ApiQuery};
use crate::app::AppState;
use crate::domain::account::{AccountStatus, Address, OwnershipMode, PaymentTerms};
use crate::domain::auth::Scope;
use crate::domain::commissions::format_share;
use crate::domain::money::Money;
use crate::service::account_sync::{self as account_service, AccountUpsert, SyncedAccount};
use crate::service::{Actor, ServiceError};
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/accounts", get(list_accounts))
        .route("/api/v1/accounts/{account}", get(get_account).put(put_account))
}

/// A postal address.
#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddressIn {
    #[schema(min_length = 1, max_length = 200, pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$")]
    pub(super) line1: String,
    #[serde(default)]
    #[schema(max_length = 200, pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$")]
    pub(super) line2: String,
    #[schema(min_length = 1, max_length = 100, pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$")]
    pub(super) city: String,
    /// State or province.
    #[serde(default)]
    #[schema(max_length = 100, pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$")]
    pub(super) region: String,
    #[schema(min_length = 1, max_length = 20, pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$")]
    pub(super) postal_code: String,
    /// Two-letter ISO code, e.g. US.
    #[schema(pattern = r"^[A-Za-z]{2}$")]
    pub(super) country: String,
}

impl AddressIn {
    /// The bounds the schema declares, each problem under `prefix` (`bill_to.`).
    pub(super) fn check(&self, checks: &mut Checks, prefix: &str) {
        let f = |name: &str| format!("{prefix}{name}");
        checks
            .chars(&f("line1"), &self.line1, 1, 200)
            .chars(&f("line2"), &self.line2, 0, 200)
            .chars(&f("city"), &self.city, 1, 100)
            .chars(&f("region"), &self.region, 0, 100)
            .chars(&f("postal_code"), &self.postal_code, 1, 20)
            .holds(
                &f("country"),
                self.country.len() == 2 && self.country.bytes().all(|b| b.is_ascii_alphabetic()),
                "a two-letter ISO country code, e.g. US",
            );
    }

    pub(super) fn address(self) -> Address {
        Address {
            line1: self.line1,
            line2: self.line2,
            city: self.city,
            region: self.region,
            postal_code: self.postal_code,
            country: self.country,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct AddressOut {
    line1: String,
    line2: String,
    city: String,
    region: String,
    postal_code: String,
    country: String,
}

pub(super) fn address_out(a: Address) -> AddressOut {
    AddressOut {
        line1: a.line1,
        line2: a.line2,
        city: a.city,
        region: a.region,
        postal_code: a.postal_code,
        country: a.country,
    }
}

/// A service's field names as this API's bodies spell them (`bill_line1` → `bill_to.line1`).
pub(super) fn api_fields(e: ServiceError, rename: &[(&str, &str)]) -> ApiError {
    match e {
        ServiceError::Invalid(mut errors) => {
            for err in &mut errors {
                if let Some((_, to)) = rename.iter().find(|(from, _)| *from == err.field) {
                    err.field = to.to_string();
                } else if let Some(rest) = err.field.strip_prefix("bill_") {
                    err.field = format!("bill_to.{rest}");
                } else if let Some(rest) = err.field.strip_prefix("ship_") {
                    err.field = format!("address.{rest}");
                }
            }
            ServiceError::Invalid(errors).into()
        }
        other => other.into(),
    }
}

/// An account as an ERP reads it.
#[derive(Serialize, ToSchema)]
pub struct AccountOut {
    id: String,
    /// Portico's number (A-10001).
    number: String,
    /// The ERP's id (the key of `PUT /accounts/{account}`).
    external_id: Option<String>,
    name: String,
    /// `active`, `on_hold` or `onboarding`.
    status: String,
    /// `rep_led`, `self_service` or `hybrid`.
    ownership_mode: String,
    owner_rep_id: Option<String>,
    owner_rep_email: Option<String>,
    /// `prepay` or `net<days>`.
    payment_terms: String,
    /// Whether the days count from the end of the invoice's month (set by finance).
    terms_from_month_end: bool,
    /// Decimal string, exact; "0" is no limit.
    credit_limit: String,
    po_required: bool,
    phone: String,
    bill_to: AddressOut,
    /// The account group's name.
    group: Option<String>,
    /// The hand-over running on the account since it last changed owning rep; null when none is
    /// running (the seller's hand-over split was off then, the period ended, or the owner
    /// did not change from one rep to another).
    handover: Option<HandoverOut>,
    version: i64,
    created_at: i64,
    updated_at: i64,
}

/// The previous owning rep keeps `share` of the commission base of the orders placed before
/// `until` (`GET /commissions/settings` has the split in force for the next change of owner;
/// a running hand-over keeps the share of its own day).
#[derive(Serialize, ToSchema)]
pub struct HandoverOut {
    previous_rep_id: String,
    /// Null when the user is gone.
    previous_rep_name: Option<String>,
    previous_rep_email: Option<String>,
    /// Unix seconds: orders placed before it are split.
    until: i64,
    /// The previous rep's share, a percentage as a decimal string with at most 2 decimals
    /// ("30", "12.5"), as `handover_share` of `GET /commissions/settings`.
    share: String,
    /// The same share in parts per million (300000 = 30 %).
    share_ppm: i64,
}

fn account_out(s: SyncedAccount) -> AccountOut {
    let a = s.account;
    AccountOut {
        handover: s.handover.map(|h| HandoverOut {
            previous_rep_id: h.rep_id,
            previous_rep_name: h.rep_name,
            previous_rep_email: h.rep_email,
            until: h.until,
            share: format_share(h.share_ppm),
            share_ppm: h.share_ppm,
        }),
        payment_terms: a.terms().code(),
        credit_limit: a.credit_limit().to_plain(),
        bill_to: address_out(a.bill_to()),
        id: a.id,
        number: a.number,
        external_id: a.external_id,
        name: a.name,
        status: a.status,
        ownership_mode: a.ownership_mode,
        owner_rep_id: a.owner_rep_id,
        owner_rep_email: s.owner_rep_email,
        terms_from_month_end: a.terms_from_month_end,
        po_required: a.po_required,
        phone: a.phone,
        group: s.group,
        version: a.version,
        created_at: a.created_at,
        updated_at: a.updated_at,
    }
}

#[derive(Serialize, ToSchema)]
pub struct AccountPage {
    accounts: Vec<AccountOut>,
    /// Pass as `cursor` for the next page; absent on the last page. Keep the last one to resume later.
    next_cursor: Option<String>,
}

/// Accounts created or changed since a time, oldest change first.
#[utoipa::path(get, path = "/api/v1/accounts", params(ChangesParams), responses(
    (status = 200, body = AccountPage)
), security(("bearer" = ["accounts:read"])), tag = "accounts")]
pub async fn list_accounts(
    State(state): State<AppState>,
    caller: ApiCaller,
    query: Result<ApiQuery<ChangesParams>, ApiError>,
) -> Result<Json<AccountPage>, ApiError> {
    caller.require(Scope::AccountsRead)?;
    let ApiQuery(p) = query?;
    let c = p.check()?;
    let mut rows = account_service::accounts_changed_since(
        &state.db,
        state.now(),
        &Actor::api(&caller.0),
        c.since,
        c.after(),
        c.limit + 1,
    )
    .await?;
    let next_cursor = super::paging::cut_page(&mut rows, c.limit, |r| cursor_of(r.account.updated_at, &r.account.id));
    Ok(Json(AccountPage { accounts: rows.into_iter().map(account_out).collect(), next_cursor }))
}

/// One account.
#[utoipa::path(get, path = "/api/v1/accounts/{account}", params(("account" = String, Path, description = "Account id, number (A-10001) or external id")),
    responses((status = 200, body = AccountOut), (status = 404, description = "no such account", body = super::Problem)),
    security(("bearer" = ["accounts:read"])), tag = "accounts")]
pub async fn get_account(
    State(state): State<AppState>,
    caller: ApiCaller,
    path: Result<ApiPath<String>, ApiError>,
) -> Result<Json<AccountOut>, ApiError> {
    caller.require(Scope::AccountsRead)?;
    let ApiPath(id) = path?;
    reference(&id)?;
    let a = account_service::synced_account(&state.db, state.now(), &Actor::api(&caller.0), &id).await?;
    Ok(Json(account_out(a)))
}

/// An account as the ERP sends it: the whole document (a field left out takes its default).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AccountIn {
    #[schema(min_length = 1, max_length = 200, pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$")]
    name: String,
    /// Default `active`.
    #[serde(default)]
    #[schema(pattern = r"^(active|on_hold|onboarding)$")]
    status: Option<String>,
    /// Default `self_service`; `rep_led` and `hybrid` need an owning rep.
    #[serde(default)]
    #[schema(pattern = r"^(rep_led|self_service|hybrid)$")]
    ownership_mode: Option<String>,
    /// The owning sales rep: their e-mail address or user id.
    #[serde(default)]
    #[schema(max_length = 254, pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$")]
    owner_rep: Option<String>,
    /// `prepay` or `net<days>` (1–365); default `net30`.
    #[serde(default)]
    #[schema(pattern = r"^(prepay|net([1-9]|[1-9][0-9]|[12][0-9]{2}|3[0-5][0-9]|36[0-5]))$")]
    payment_terms: Option<String>,
    /// Decimal string, e.g. "25000.00": up to 12 digits before the point, 4 after; default "0" (no limit).
    #[serde(default)]
    #[schema(pattern = r"^[0-9]{1,12}(\.[0-9]{1,4})?$")]
    credit_limit: Option<String>,
    #[serde(default)]
    po_required: bool,
    #[serde(default)]
    #[schema(max_length = 40, pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$")]
    phone: String,
    bill_to: AddressIn,
    /// The account group by name (`GET /account-groups`); "" takes the account out of its group;
    /// absent keeps it.
    #[serde(default)]
    #[schema(max_length = 100, pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$")]
    group: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct AccountUpsertOut {
    created: bool,
    /// False when the document matched what was stored (nothing was written).
    changed: bool,
    account: AccountOut,
}

fn upsert_of(b: AccountIn) -> Result<AccountUpsert, ApiError> {
    let mut checks = Checks::default();
    checks.chars("name", &b.name, 1, 200).chars("phone", &b.phone, 0, 40);
    if let Some(r) = &b.owner_rep {
        checks.chars("owner_rep", r, 0, 254);
    }
    if let Some(g) = &b.group {
        checks.chars("group", g, 0, 100);
    }
    let status = b.status.as_deref().map_or(Some(AccountStatus::Active), AccountStatus::parse);
    checks.holds("status", status.is_some(), "one of active, on_hold, onboarding");
    let mode = b.ownership_mode.as_deref().map_or(Some(OwnershipMode::SelfService), OwnershipMode::parse);
    checks.holds("ownership_mode", mode.is_some(), "one of rep_led, self_service, hybrid");
    let terms = b.payment_terms.as_deref().map_or(Some(PaymentTerms::Net(30)), |t| {
        let written = t == "prepay" || t.strip_prefix("net").is_some_and(|d| !d.starts_with('0'));
        PaymentTerms::parse(t).filter(|_| written)
    });
    checks.holds("payment_terms", terms.is_some(), "prepay, or net and 1 to 365 days (net30)");
    let limit = b.credit_limit.as_deref().unwrap_or("0");
    let (whole, fraction) = limit.split_once('.').map_or((limit, None), |(w, f)| (w, Some(f)));
    let digits = |s: &str, max: usize| (1..=max).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit());
    let written = digits(whole, 12) && fraction.is_none_or(|f| digits(f, 4));
    checks.holds("credit_limit", written, "an amount with digits and a point only, e.g. 25000.00");
    if written {
        // Past the amount bound: the domain's words.
        checks.amount("credit_limit", limit);
    }
    let credit_limit = Money::parse_non_negative(limit);
    b.bill_to.check(&mut checks, "bill_to.");
    checks.done()?;
    let (Some(status), Some(ownership_mode), Some(terms), Ok(credit_limit)) = (status, mode, terms, credit_limit)
    else {
        return Err(ApiError::invalid("body", "invalid"));
    };
    Ok(AccountUpsert {
        name: b.name,
        status,
        ownership_mode,
        owner_rep: b.owner_rep,
        terms,
        credit_limit,
        po_required: b.po_required,
        phone: b.phone,
        bill_to: b.bill_to.address(),
        group: b.group,
    })
}

/// Creates or updates the account with this external (ERP) id. The same document sent again
/// changes nothing (no audit row, no event, `updated_at` kept).
#[utoipa::path(put, path = "/api/v1/accounts/{account}", params(("account" = String, Path, description = "The account's external (ERP) id, 1–100 characters")),
    request_body = AccountIn,
    responses((status = 201, body = AccountUpsertOut, description = "created"), (status = 200, body = AccountUpsertOut, description = "updated, or unchanged"),
    (status = 422, description = "every bad field (also: an unknown owning rep or group, a rep who is not an active sales rep); nothing changed", body = super::Problem)),
    security(("bearer" = ["accounts:write"])), tag = "accounts")]
pub async fn put_account(
    State(state): State<AppState>,
    caller: ApiCaller,
    path: Result<ApiPath<String>, ApiError>,
    body: Result<ApiJson<AccountIn>, ApiError>,
) -> Result<(StatusCode, Json<AccountUpsertOut>), ApiError> {
    caller.require(Scope::AccountsWrite)?;
    let ApiPath(external_id) = path?;
    Checks::default().chars("external_id", &external_id, 1, 100).line("external_id", &external_id).done()?;
    let ApiJson(b) = body?;
    let upsert = upsert_of(b)?;
    let actor = Actor::api(&caller.0);
    let r = account_service::upsert_account(&state.db, state.now(), &actor, &external_id, upsert)
        .await
        .map_err(|e| api_fields(e, &[("owner_rep_id", "owner_rep")]))?;
    let account = account_service::synced_account(&state.db, state.now(), &actor, &r.row.id).await?;
    let status = if r.created { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, Json(AccountUpsertOut { created: r.created, changed: r.changed, account: account_out(account) })))
}
