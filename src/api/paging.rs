//! What the API's dated lists share (invoices, payments): the optional account they are filtered
//! by, the cursor `<YYYY-MM-DD>.<NUMBER>` of the last row of a page, and cutting a page.

use super::ApiError;
use super::input::reference;
use crate::app::AppState;
use crate::service::Actor;
use crate::service::accounts::find_account;

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

/// A dated cursor: `<date>.<number>` of the last row of the previous page, exactly as the
/// document's pattern says (`2026-12-05.INV-100001`); the number's series is 2 to 4 capitals.
pub(super) fn dated_cursor(c: &str) -> Result<(&str, &str), ApiError> {
    let bad = || ApiError::invalid("cursor", "not a cursor from this API");
    let (on, number) = c.split_once('.').ok_or_else(bad)?;
    let date_ok = on.len() == 10
        && on.bytes().enumerate().all(|(i, b)| if i == 4 || i == 7 { b == b'-' } else { b.is_ascii_digit() });
    let (series, digits) = number.split_once('-').ok_or_else(bad)?;
    let number_ok = (2..=4).contains(&series.len())
        && series.bytes().all(|b| b.is_ascii_uppercase())
        && (1..=18).contains(&digits.len())
        && digits.bytes().all(|b| b.is_ascii_digit());
    if date_ok && number_ok { Ok((on, number)) } else { Err(bad()) }
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
