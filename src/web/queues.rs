//! The work queues' pages: the rep's home (`/rep`, phone-first: what waits on the rep, quotes
//! awaiting the customer, and the book with a one-tap reorder / quick order / act for) and the
//! customer-service desk (`/desk`: orders in progress that need someone, by reason, oldest first).

use super::AppState;
use super::error::WebError;
use super::session::Ctx;
use super::shell::{Shell, date};
use crate::domain::money::Money;
use crate::domain::orders::OrderStatus;
use crate::domain::queues::{Reason, age_label, days_between};
use crate::service::accounts as account_service;
use crate::service::queues::{self as queue_service, BookAccount, QueueItem, QueuePage};
use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::response::Html;
use axum::routing::get;
use serde::Deserialize;

pub fn router() -> Router<AppState> {
    Router::new().route("/rep", get(rep_home)).route("/desk", get(desk))
}

const QUEUE_PAGE: i64 = 25;
const BOOK_PAGE: i64 = 25;

#[derive(Deserialize, Default)]
struct QueueQuery {
    /// Narrows the queue to one reason (`escalated`, `pending_approval`, …).
    #[serde(default)]
    reason: String,
    /// The queue's keyset: the last order's placed_at and id.
    after_at: Option<i64>,
    after_order: Option<String>,
    /// Account search and its keyset (name, id).
    #[serde(default)]
    q: String,
    after_name: Option<String>,
    after_id: Option<String>,
    notice: Option<String>,
}

impl QueueQuery {
    fn reason(&self) -> Result<Option<Reason>, WebError> {
        match self.reason.trim() {
            "" => Ok(None),
            r => Reason::parse(r)
                .map(Some)
                .ok_or_else(|| WebError::from(crate::service::ServiceError::invalid("reason", "Unknown reason."))),
        }
    }
    fn queue_after(&self) -> Option<(i64, &str)> {
        self.after_at.zip(self.after_order.as_deref())
    }
    fn book_after(&self) -> Option<(&str, &str)> {
        self.after_name.as_deref().zip(self.after_id.as_deref())
    }
}

/// An order of a queue as a card (phone) or a row (desk on a wide screen).
struct QueueCard {
    number: String,
    account_id: String,
    account_name: String,
    account_number: String,
    owner: Option<String>,
    status: String,
    status_label: &'static str,
    reasons: Vec<(&'static str, &'static str)>,
    age: String,
    placed: String,
    amended: Option<String>,
    placed_by: String,
    po_number: String,
    subtotal: Money,
    lines: i64,
}

impl QueueCard {
    fn new(item: &QueueItem, now: i64) -> QueueCard {
        let o = &item.row;
        QueueCard {
            number: o.number.clone(),
            account_id: o.account_id.clone(),
            account_name: o.account_name.clone(),
            account_number: o.account_number.clone(),
            owner: o.owner_rep_name.clone(),
            status: o.status.clone(),
            status_label: OrderStatus::parse(&o.status).map(|s| s.label()).unwrap_or("?"),
            reasons: item.reasons.iter().map(|r| (r.as_str(), r.label())).collect(),
            age: age_label(now - o.placed_at),
            placed: date(o.placed_at),
            amended: o.amended_at.map(|at| age_label(now - at)),
            placed_by: o.placed_by_name.clone(),
            po_number: o.po_number.clone(),
            subtotal: Money::from_raw(o.subtotal),
            lines: o.line_count,
        }
    }
}

/// The reason filter: (code, label, count, active); the first is "All".
type ReasonChip = (&'static str, &'static str, i64, bool);

fn chips(page: &QueuePage, reason: Option<Reason>) -> Vec<ReasonChip> {
    let mut out = vec![("", "All", page.total, reason.is_none())];
    out.extend(page.counts.iter().map(|(r, n)| (r.as_str(), r.label(), *n, Some(*r) == reason)));
    out
}

fn queue_next(page: &QueuePage, reason: Option<Reason>) -> Option<String> {
    page.next.as_ref().map(|(at, id)| {
        serde_urlencoded::to_string([
            ("reason", reason.map(|r| r.as_str()).unwrap_or("")),
            ("after_at", &at.to_string()),
            ("after_order", id.as_str()),
        ])
        .unwrap_or_default()
    })
}

/// An account of the rep's book as a card, with its last order.
struct BookCard {
    id: String,
    name: String,
    number: String,
    place: String,
    /// Payment terms (a rep is asked about them on the phone).
    terms: String,
    status: String,
    status_label: &'static str,
    /// (number, placed date, days since).
    last_order: Option<(String, String, i64)>,
}

impl BookCard {
    fn new(b: &BookAccount, now: i64) -> BookCard {
        let a = &b.account;
        let place = match (a.bill_city.is_empty(), a.bill_region.is_empty()) {
            (false, false) => format!("{}, {}", a.bill_city, a.bill_region),
            (false, true) => a.bill_city.clone(),
            _ => String::new(),
        };
        BookCard {
            id: a.id.clone(),
            name: a.name.clone(),
            number: a.number.clone(),
            place,
            terms: a.terms_label(),
            status: a.status.clone(),
            status_label: a.status_label(),
            last_order: b.last_order.as_ref().map(|(n, at)| (n.clone(), date(*at), days_between(*at, now))),
        }
    }
}

#[derive(Template)]
#[template(path = "rep_home.html")]
struct RepHome {
    shell: Shell,
    queue: Vec<QueueCard>,
    /// How many orders wait on the rep (the filter chips are shown only when some do).
    queue_total: i64,
    chips: Vec<ReasonChip>,
    reason: String,
    queue_next: Option<String>,
    accounts: Vec<BookCard>,
    total_accounts: i64,
    q: String,
    book_next: Option<String>,
    /// The rep's open quotes: to price, waiting for sign-off, awaiting the customer.
    quotes: Vec<QuoteCard>,
    /// This month's commission so far: (earned, of which self-service orders, period).
    earnings: Option<(crate::domain::money::Money, crate::domain::money::Money, String)>,
}

struct QuoteCard {
    number: String,
    account_name: String,
    status: &'static str,
    status_label: &'static str,
    total: crate::domain::money::Money,
    /// "Valid to 3 Jan 2027" for a sent quote; else how long it has waited.
    when: String,
}

async fn open_quotes(
    state: &AppState,
    actor: &crate::service::Actor<'_>,
    now: i64,
) -> Result<Vec<QuoteCard>, WebError> {
    use crate::domain::quotes::QuoteStatus::*;
    let list = crate::service::quotes::list_quotes(
        &state.db,
        now,
        actor,
        None,
        &[Requested, Draft, AwaitingSignoff, Sent],
        Default::default(),
        20,
    )
    .await?;
    Ok(list
        .quotes
        .into_iter()
        .map(|(q, s)| {
            let when = match q.expires_on.as_deref().and_then(crate::domain::pricing::parse_iso_date) {
                Some(d) if s == Sent => format!("Valid to {}", crate::domain::pricing::format_date(d)),
                _ => {
                    let days = (now - q.updated_at).max(0) / 86_400;
                    if days == 0 { "Today".into() } else { format!("{days} day(s) ago") }
                }
            };
            QuoteCard {
                total: q.total(),
                number: q.number,
                account_name: q.account_name,
                status: s.as_str(),
                status_label: s.label(),
                when,
            }
        })
        .collect())
}

async fn rep_home(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<QueueQuery>,
) -> Result<Html<String>, WebError> {
    let actor = ctx.actor();
    let now = state.now();
    let reason = q.reason()?;
    let page = queue_service::rep_queue(&state.db, now, &actor, reason, q.queue_after(), QUEUE_PAGE).await?;
    let mut book = queue_service::rep_book(&state.db, &actor, &q.q, q.book_after(), BOOK_PAGE + 1).await?;
    let book_next = if book.len() as i64 > BOOK_PAGE {
        book.truncate(BOOK_PAGE as usize);
        book.last().map(|b| {
            serde_urlencoded::to_string([
                ("q", q.q.as_str()),
                ("after_name", b.account.name.as_str()),
                ("after_id", b.account.id.as_str()),
            ])
            .unwrap_or_default()
        })
    } else {
        None
    };
    let total_accounts = account_service::count_accounts(&state.db, &actor, true).await?;
    let period = crate::service::commissions::this_period(now);
    let earnings = crate::service::commissions::statement(&state.db, &actor, &ctx.session.principal.user_id, &period)
        .await
        .ok()
        .map(|s| (s.earned, s.self_service, s.period));
    let view = RepHome {
        earnings,
        quotes: open_quotes(&state, &actor, now).await?,
        shell: Shell::new(&ctx, "My accounts").with_notice(q.notice.as_deref()),
        queue: page.items.iter().map(|i| QueueCard::new(i, now)).collect(),
        queue_total: page.total,
        chips: chips(&page, reason),
        reason: reason.map(|r| r.as_str().to_string()).unwrap_or_default(),
        queue_next: queue_next(&page, reason),
        accounts: book.iter().map(|b| BookCard::new(b, now)).collect(),
        total_accounts,
        q: q.q,
        book_next,
    };
    Ok(Html(view.render()?))
}

#[derive(Template)]
#[template(path = "desk.html")]
struct DeskPage {
    shell: Shell,
    queue: Vec<QueueCard>,
    chips: Vec<ReasonChip>,
    reason: String,
    queue_next: Option<String>,
    q: String,
    accounts: Vec<crate::service::accounts::AccountListRow>,
    book_next: Option<String>,
}

async fn desk(State(state): State<AppState>, ctx: Ctx, Query(q): Query<QueueQuery>) -> Result<Html<String>, WebError> {
    let actor = ctx.actor();
    let now = state.now();
    let reason = q.reason()?;
    let page = queue_service::desk_queue(&state.db, now, &actor, reason, q.queue_after(), QUEUE_PAGE).await?;
    // The account search (a phone order starts by finding the account): only when asked.
    let (accounts, book_next) = if q.q.trim().is_empty() && q.book_after().is_none() {
        (Vec::new(), None)
    } else {
        let mut rows =
            account_service::search_accounts(&state.db, &actor, false, &q.q, q.book_after(), BOOK_PAGE + 1).await?;
        let next = if rows.len() as i64 > BOOK_PAGE {
            rows.truncate(BOOK_PAGE as usize);
            rows.last().map(|a| {
                serde_urlencoded::to_string([
                    ("q", q.q.as_str()),
                    ("after_name", a.name.as_str()),
                    ("after_id", a.id.as_str()),
                ])
                .unwrap_or_default()
            })
        } else {
            None
        };
        (rows, next)
    };
    let view = DeskPage {
        shell: Shell::new(&ctx, "Desk").with_notice(q.notice.as_deref()),
        queue: page.items.iter().map(|i| QueueCard::new(i, now)).collect(),
        chips: chips(&page, reason),
        reason: reason.map(|r| r.as_str().to_string()).unwrap_or_default(),
        queue_next: queue_next(&page, reason),
        q: q.q,
        accounts,
        book_next,
    };
    Ok(Html(view.render()?))
}
