//! What the API's lists share: the optional account they are filtered by, cutting a page, and
//! one paging shape for every list an ERP pulls (orders, invoices and credit notes, payments,
//! quotes, products, accounts, ship-tos, account users, account groups, warehouses, catalogs, price
//! lists): what was created or changed at or after `updated_since`, oldest change first, a page
//! of `limit` at a time, the next page after `cursor` = `<updated_at>.<hex of the id>` of the last
//! row; the page is `{"<items>": [...], "next_cursor": "..."}`. The query parameters are
//! [`ChangesParams`] (a list with filters of its own adds them beside, checked by [`changes`]).

use super::ApiError;
use super::input::reference;
use crate::app::AppState;
use crate::service::Actor;
use crate::service::accounts::find_account;
use serde::Deserialize;
use utoipa::IntoParams;

/// The query of every list an ERP pulls: what changed since a time, a page at a time.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ChangesParams {
    /// Unix seconds: only what was created or changed at or after this time.
    #[param(minimum = 0, maximum = 253_402_300_799_i64)]
    pub updated_since: Option<i64>,
    /// `next_cursor` of the previous page.
    #[param(pattern = r"^[0-9]{1,15}\.([2-6][0-9a-fA-F]|7[0-9a-eA-E]){1,64}$")]
    pub cursor: Option<String>,
    /// Page size (default 100).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
}

/// A checked [`ChangesParams`]: since, the keyset after, the page size.
pub(super) struct Changes {
    pub since: i64,
    pub after: Option<(i64, String)>,
    pub limit: i64,
}

impl Changes {
    pub fn after(&self) -> Option<(i64, &str)> {
        self.after.as_ref().map(|(at, id)| (*at, id.as_str()))
    }
}

impl ChangesParams {
    pub(super) fn check(&self) -> Result<Changes, ApiError> {
        changes(self.updated_since, self.cursor.as_deref(), self.limit)
    }
}

/// Checks the three parameters every list an ERP pulls takes (lists with filters of their own
/// declare them beside these, with the same names, documentation and bounds).
pub(super) fn changes(
    updated_since: Option<i64>,
    cursor: Option<&str>,
    limit: Option<i64>,
) -> Result<Changes, ApiError> {
    let limit = super::catalog::page_limit(limit)?;
    super::input::Checks::default().range_opt("updated_since", updated_since, 0, super::input::MAX_SECONDS).done()?;
    let after = cursor.map(change_cursor).transpose()?;
    Ok(Changes { since: updated_since.unwrap_or(0), after, limit })
}

/// The cursor after a row changed at `updated_at` with this id.
pub(super) fn cursor_of(updated_at: i64, id: &str) -> String {
    format!("{updated_at}.{}", hex::encode(id))
}

/// A changes cursor: `<updated_at>.<hex of the id>` of the last row of the previous page. Ids
/// are printable ASCII, as the document's pattern says (a NUL cannot even be bound on PostgreSQL).
pub(super) fn change_cursor(c: &str) -> Result<(i64, String), ApiError> {
    let bad = || ApiError::invalid("cursor", "not a cursor from this API");
    let (at, id) = c.split_once('.').ok_or_else(bad)?;
    let at_ok = (1..=15).contains(&at.len()) && at.bytes().all(|b| b.is_ascii_digit());
    if !at_ok || !(2..=128).contains(&id.len()) {
        return Err(bad());
    }
    let id = hex::decode(id).map_err(|_| bad())?;
    if !id.iter().all(|b| (0x20..0x7f).contains(b)) {
        return Err(bad());
    }
    Ok((at.parse().map_err(|_| bad())?, String::from_utf8_lossy(&id).into_owned()))
}

/// The account a list is filtered by (id, number or external id) — 404 when the caller may not
/// see it — or `None` for every account the caller may see.
pub(super) async fn listed_account(
    state: &AppState,
    actor: &Actor<'_>,
    account: Option<&str>,
) -> Result<Option<String>, ApiError> {
    match account {
        Some(a) => {
            reference(a)?;
            Ok(Some(find_account(&state.db, actor, a).await?.id))
        }
        None => Ok(None),
    }
}

/// Cuts rows read as `limit + 1` to a page of `limit`; the next page's cursor when more follow.
pub(super) fn cut_page<T>(rows: &mut Vec<T>, limit: i64, cursor_of: impl Fn(&T) -> String) -> Option<String> {
    if rows.len() as i64 > limit {
        rows.truncate(limit as usize);
        rows.last().map(cursor_of)
    } else {
        None
    }
}
