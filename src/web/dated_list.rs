//! What the web's dated lists — invoices and payments, newest first — share: the query (one
//! account, and where the previous page ended), a page of [`PAGE`] rows read as one more, the
//! link to the next page, and that each list has a staff route and a portal route, each 404 to
//! the other side.

use super::error::WebError;
use super::session::Ctx;
use serde::Deserialize;

/// Rows on a page.
pub const PAGE: i64 = 50;

/// A list's query string: `account` (staff), and the date and number of the previous page's last
/// row.
#[derive(Deserialize, Default)]
pub struct ListQuery {
    #[serde(default)]
    account: String,
    after_on: Option<String>,
    after_number: Option<String>,
}

impl ListQuery {
    pub fn account(&self) -> Option<&str> {
        Some(self.account.trim()).filter(|a| !a.is_empty())
    }

    /// Where the previous page ended: (date, number).
    pub fn after(&self) -> Option<(&str, &str)> {
        self.after_on.as_deref().zip(self.after_number.as_deref())
    }

    /// Cuts rows read as `PAGE + 1` to a page; the next page's query string when more follow.
    /// `key` is a row's (date, number).
    pub fn page<T>(&self, rows: &mut Vec<T>, key: impl Fn(&T) -> (String, String)) -> Option<String> {
        if rows.len() as i64 <= PAGE {
            return None;
        }
        rows.truncate(PAGE as usize);
        let (on, number) = key(rows.last()?);
        let mut pairs = vec![("after_on", on), ("after_number", number)];
        if let Some(a) = self.account() {
            pairs.push(("account", a.to_string()));
        }
        Some(serde_urlencoded::to_string(pairs).unwrap_or_default())
    }
}

/// Which side a list's route serves: staff, or buyers in the portal.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Staff,
    Portal,
}

impl Side {
    /// The route is not there for the other side (404).
    pub fn check(self, ctx: &Ctx) -> Result<(), WebError> {
        match (self, ctx.session.principal.is_staff()) {
            (Side::Staff, true) | (Side::Portal, false) => Ok(()),
            _ => Err(WebError::NotFound),
        }
    }
}
