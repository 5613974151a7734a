//! The seller's dashboards (issue 18 §4), for admins and sales managers (the whole seller, or one
//! rep's book or one account) and for each rep (their own book only: another rep's account or book
//! answers 404). Buyers get 404, other staff 403. The rules are `domain::dashboards`; the figures
//! come from the rollups kept with the orders (`store::dashboards`): orders, revenue and rhythm by
//! the order writer in the order's transaction, who buys what by the worker from the account-months
//! the order writer marks (seconds behind; the page says how many changes wait).

use super::{Actor, ServiceError, ServiceResult};
use crate::domain::auth::{AccountScope, Permission};
use crate::domain::commissions::CHANNELS;
use crate::domain::dashboards::{self as rules, Adoption, Rhythm};
use crate::domain::money::Money;
use crate::service::evaluation::{LineInput, evaluate};
use crate::store::dashboards::{self as store, Scope};
use crate::store::{Db, accounts, users};

/// Whose figures: an account (id, number or external id) or a rep's book (user id) within what
/// the actor may see (both optional; the account wins).
#[derive(Clone, Debug, Default)]
pub struct Filter {
    pub account: Option<String>,
    pub rep: Option<String>,
}

/// The scope the actor asked for, checked: a rep only their book (another rep's account or book is
/// 404, as if it did not exist); admins and sales managers anything; buyers 404; other staff 403.
pub async fn scope(db: &Db, actor: &Actor<'_>, filter: &Filter) -> ServiceResult<OwnedScope> {
    actor.require(Permission::ViewDashboards)?;
    let book = match actor.principal.account_scope() {
        AccountScope::All => None,
        AccountScope::Book(rep) => Some(rep.to_string()),
        _ => return Err(ServiceError::Forbidden),
    };
    if let Some(id) = filter.account.as_deref().filter(|s| !s.is_empty()) {
        super::check_texts(&[("account", id)], &[])?;
        let account = accounts::find_by_reference(db, id).await?.ok_or(ServiceError::NotFound)?;
        if book.as_deref().is_some_and(|r| account.owner_rep_id.as_deref() != Some(r)) {
            return Err(ServiceError::NotFound);
        }
        return Ok(OwnedScope::Account(account.id, account.name));
    }
    if let Some(rep) = filter.rep.as_deref().filter(|s| !s.is_empty()) {
        super::check_texts(&[("rep", rep)], &[])?;
        if book.as_deref().is_some_and(|r| r != rep) {
            return Err(ServiceError::NotFound);
        }
        let user = users::get(db, rep).await?.filter(|u| u.is_staff()).ok_or(ServiceError::NotFound)?;
        return Ok(OwnedScope::Book(user.id, user.name));
    }
    Ok(match book {
        Some(rep) => {
            let name = users::get(db, &rep).await?.map(|u| u.name).unwrap_or_default();
            OwnedScope::Book(rep, name)
        }
        None => OwnedScope::All,
    })
}

/// A checked scope, with the name of its account or rep.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OwnedScope {
    All,
    Book(String, String),
    Account(String, String),
}

impl OwnedScope {
    fn store(&self) -> Scope<'_> {
        match self {
            OwnedScope::All => Scope::All,
            OwnedScope::Book(r, _) => Scope::Book(r),
            OwnedScope::Account(a, _) => Scope::Account(a),
        }
    }

    /// "All accounts", "Rita Rep's book", "Smile Dental".
    pub fn label(&self) -> String {
        match self {
            OwnedScope::All => "All accounts".into(),
            OwnedScope::Book(_, name) => format!("{name}’s book"),
            OwnedScope::Account(_, name) => name.clone(),
        }
    }
}

/// One month of orders and revenue, per channel in [`ChannelsView::channels`]' order.
#[derive(Clone, Debug)]
pub struct MonthRow {
    pub month: String,
    pub cells: Vec<(i64, Money)>,
    pub orders: i64,
    pub revenue: Money,
    pub adoption: Adoption,
}

#[derive(Clone, Debug)]
pub struct ChannelsView {
    pub scope: OwnedScope,
    pub months: u32,
    /// The channels with any order in the window (in `CHANNELS` order).
    pub channels: Vec<&'static str>,
    pub rows: Vec<MonthRow>,
    pub total: MonthRow,
}

/// Orders and revenue by channel and month over the last `months` months (12 or 24).
pub async fn channels(
    db: &Db,
    now: i64,
    actor: &Actor<'_>,
    filter: &Filter,
    months: u32,
) -> ServiceResult<ChannelsView> {
    let scope = scope(db, actor, filter).await?;
    let months = rules::window(Some(months));
    let list = rules::last_months(now, months);
    let (first, last) = (list[0].clone(), list[list.len() - 1].clone());
    let rows = store::channel_months(db, scope.store(), &first, &last).await?;
    let channels: Vec<&'static str> = CHANNELS.into_iter().filter(|c| rows.iter().any(|r| r.channel == *c)).collect();
    let empty = |month: &str| MonthRow {
        month: month.to_string(),
        cells: vec![(0, Money::ZERO); channels.len()],
        orders: 0,
        revenue: Money::ZERO,
        adoption: Adoption::default(),
    };
    let mut out: Vec<MonthRow> = list.iter().map(|m| empty(m)).collect();
    let mut total = empty("total");
    for r in rows {
        let (Some(mi), Some(ci)) =
            (list.iter().position(|m| *m == r.month), channels.iter().position(|c| *c == r.channel))
        else {
            continue;
        };
        let revenue = Money::from_raw(r.revenue);
        for row in [&mut out[mi], &mut total] {
            let cell = &mut row.cells[ci];
            cell.0 += r.orders;
            cell.1 = cell.1.checked_add(revenue).ok_or_else(overflow)?;
            row.orders += r.orders;
            row.revenue = row.revenue.checked_add(revenue).ok_or_else(overflow)?;
            row.adoption.add(&r.channel, r.orders, revenue);
        }
    }
    Ok(ChannelsView { scope, months, channels, rows: out, total })
}

fn overflow() -> ServiceError {
    ServiceError::Conflict("a total is too large".into())
}

/// An account's or a rep's self-service adoption.
#[derive(Clone, Debug)]
pub struct AdoptionLine {
    /// The account's id, or (per rep) the rep's user id, empty for accounts without a rep.
    pub id: String,
    pub number: String,
    pub name: String,
    pub rep_id: String,
    pub rep_name: String,
    pub adoption: Adoption,
}

#[derive(Clone, Debug)]
pub struct AdoptionView {
    pub scope: OwnedScope,
    pub months: u32,
    /// Month by month, oldest first.
    pub trend: Vec<MonthRow>,
    pub total: Adoption,
    /// Per rep (owner of the accounts now); the whole seller's view only.
    pub by_rep: Vec<AdoptionLine>,
    /// Per account, biggest revenue first.
    pub by_account: Vec<AdoptionLine>,
}

fn adoption_line(r: store::AdoptionRow) -> AdoptionLine {
    AdoptionLine {
        adoption: Adoption {
            orders: r.orders,
            self_orders: r.self_orders,
            revenue: Money::from_raw(r.revenue),
            self_revenue: Money::from_raw(r.self_revenue),
        },
        id: r.id,
        number: r.number,
        name: r.name,
        rep_id: r.rep_id,
        rep_name: r.rep_name,
    }
}

/// Self-service adoption: its trend month by month, per rep and per account.
pub async fn adoption(
    db: &Db,
    now: i64,
    actor: &Actor<'_>,
    filter: &Filter,
    months: u32,
) -> ServiceResult<AdoptionView> {
    let ch = channels(db, now, actor, filter, months).await?;
    let list = rules::last_months(now, ch.months);
    let (first, last) = (&list[0], &list[list.len() - 1]);
    let by_account: Vec<AdoptionLine> =
        store::adoption_by_account(db, ch.scope.store(), first, last).await?.into_iter().map(adoption_line).collect();
    // Per rep: the accounts' figures summed by their owner now (no second pass over the rollup).
    let mut by_rep: Vec<AdoptionLine> = Vec::new();
    if !matches!(ch.scope, OwnedScope::Account(..)) {
        for a in &by_account {
            let i = match by_rep.iter().position(|r| r.id == a.rep_id) {
                Some(i) => i,
                None => {
                    by_rep.push(AdoptionLine {
                        id: a.rep_id.clone(),
                        number: String::new(),
                        name: a.rep_name.clone(),
                        rep_id: a.rep_id.clone(),
                        rep_name: a.rep_name.clone(),
                        adoption: Adoption::default(),
                    });
                    by_rep.len() - 1
                }
            };
            let r = &mut by_rep[i].adoption;
            r.orders += a.adoption.orders;
            r.self_orders += a.adoption.self_orders;
            r.revenue = r.revenue.checked_add(a.adoption.revenue).ok_or_else(overflow)?;
            r.self_revenue = r.self_revenue.checked_add(a.adoption.self_revenue).ok_or_else(overflow)?;
        }
        by_rep.sort_by(|a, b| b.adoption.revenue.cmp(&a.adoption.revenue).then(a.name.cmp(&b.name)));
    }
    Ok(AdoptionView {
        total: ch.total.adoption,
        trend: ch.rows,
        scope: ch.scope,
        months: ch.months,
        by_rep,
        by_account,
    })
}

/// How an account orders, and whether it stopped.
#[derive(Clone, Debug)]
pub struct RhythmLine {
    pub account_id: String,
    pub number: String,
    pub name: String,
    pub rep_name: String,
    pub rhythm: Rhythm,
    pub since_days: i64,
    pub usual_days: Option<i64>,
    /// Silence as a multiple of the usual interval, in tenths.
    pub overdue_tenths: Option<i64>,
    pub stopped: bool,
}

impl RhythmLine {
    /// `2026-03-15`, the day of the last order (UTC).
    pub fn last_order_date(&self) -> String {
        date(self.rhythm.last_at)
    }

    /// `2.5×`, or empty.
    pub fn overdue(&self) -> String {
        self.overdue_tenths.map(|t| format!("{}.{}×", t / 10, t % 10)).unwrap_or_default()
    }
}

/// Every account in scope that has ordered: its usual interval and silence, worst first.
pub async fn rhythms(
    db: &Db,
    now: i64,
    actor: &Actor<'_>,
    filter: &Filter,
) -> ServiceResult<(OwnedScope, Vec<RhythmLine>)> {
    let scope = scope(db, actor, filter).await?;
    let rows = store::rhythms(db, scope.store()).await?;
    let mut lines: Vec<RhythmLine> = rows
        .into_iter()
        .map(|r| {
            let rhythm = Rhythm::of(r.orders, &rules::parse_recent(&r.recent));
            RhythmLine {
                since_days: rules::days(rhythm.since_last(now)),
                usual_days: rhythm.usual_gap.map(rules::days),
                overdue_tenths: rhythm.overdue_tenths(now),
                stopped: rhythm.stopped(now),
                rhythm,
                account_id: r.account_id,
                number: r.number,
                name: r.name,
                rep_name: r.rep_name,
            }
        })
        .collect();
    lines.sort_by(|a, b| rules::worse_first(&a.rhythm, &b.rhythm, now).then_with(|| a.name.cmp(&b.name)));
    Ok((scope, lines))
}

/// A cart nobody touched for a day or more.
#[derive(Clone, Debug)]
pub struct CartLine {
    pub user_id: String,
    pub user_name: String,
    pub account_id: String,
    pub number: String,
    pub name: String,
    pub rep_name: String,
    pub lines: i64,
    /// At the account's prices now (what the buyer would pay); `None` if it cannot be priced.
    pub value: Option<Money>,
    pub last_at: i64,
    pub age_days: i64,
}

/// The most carts priced per view: each is priced like the buyer's cart page prices it.
pub const CARTS_PRICED: i64 = 100;

/// Abandoned carts in scope (the [`CARTS_PRICED`] most recently abandoned), most valuable first.
pub async fn abandoned_carts(
    db: &Db,
    now: i64,
    actor: &Actor<'_>,
    filter: &Filter,
) -> ServiceResult<(OwnedScope, Vec<CartLine>)> {
    let scope = scope(db, actor, filter).await?;
    let rows = store::idle_carts(db, scope.store(), now - rules::ABANDONED_AFTER, CARTS_PRICED).await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let items = store::cart_items(db, &r.user_id, &r.account_id).await?;
        let input: Vec<LineInput> = items.iter().map(|(_, sku, q)| LineInput::sku(sku, *q)).collect();
        let value = match evaluate(db, now, &r.account_id, &input).await {
            Ok(e) => Money::sum(e.rows().iter().map(|l| l.line_total)),
            Err(_) => None,
        };
        out.push(CartLine {
            age_days: rules::days(now - r.last_at),
            user_id: r.user_id,
            user_name: r.user_name,
            account_id: r.account_id,
            number: r.number,
            name: r.name,
            rep_name: r.rep_name,
            lines: r.lines,
            value,
            last_at: r.last_at,
        });
    }
    out.sort_by(|a, b| b.value.cmp(&a.value).then(b.last_at.cmp(&a.last_at)));
    Ok((scope, out))
}

/// The worker's step for who buys what: sums the windows anew when the month (of `now`) turned,
/// and counts the orders changed a few seconds ago or more (`store::dashboards::RECOUNT_DELAY`;
/// `store::dashboards::refresh_products`), `limit` orders to a transaction, until fewer than that
/// wait or [`COUNT_TRANSACTIONS`] are done; returns how many (0: nothing waited, and nothing was
/// written, or only the windows).
///
/// It counts once a transaction's worth (`limit`) is due, or once an order has been due for
/// [`COUNT_WAIT`]: under load a pass then takes `limit` orders at once, whose rows share the
/// rollup's pages (on the large demo, 5,000 orders a pass wrote a third of the log's pages per
/// order that 1,000 did), and when few orders come in they are counted within
/// `RECOUNT_DELAY` + [`COUNT_WAIT`] seconds all the same.
pub async fn count_products(db: &Db, now: i64, limit: i64) -> ServiceResult<usize> {
    let month = rules::month_of(now);
    if !store::products_waiting(db, &month, now - COUNT_WAIT).await?
        && store::products_due(db, now, limit).await? < limit
    {
        return Ok(0);
    }
    count_products_due_by(db, now, now, limit).await
}

/// How long (seconds) an order due to be counted waits for a transaction's worth of others
/// ([`count_products`]).
pub const COUNT_WAIT: i64 = 10;

/// The most transactions of [`count_products`] in one worker pass: the worker keeps pace with
/// placement (`limit` orders each, passes half a second apart), and the one writer is never held
/// for more than one transaction's orders at a time.
pub const COUNT_TRANSACTIONS: usize = 5;

/// [`count_products`] for the marks due by `due_by` (the demo and tests: every mark, at once).
pub async fn count_products_due_by(db: &Db, now: i64, due_by: i64, limit: i64) -> ServiceResult<usize> {
    let month = rules::month_of(now);
    let mut counted = 0;
    for _ in 0..COUNT_TRANSACTIONS {
        if !store::products_waiting(db, &month, due_by).await? {
            break;
        }
        // The count on the rollup's writer (SQLite: the rollup file, whose lock placement never
        // waits for), then the marks off the orders in a short unit of the order writer's.
        let done = db
            .write_rollup((month.clone(), due_by, limit), |tx, (month, due_by, limit)| {
                Box::pin(store::refresh_products(tx, month, *due_by, *limit))
            })
            .await?;
        let n = done.len();
        if !done.is_empty() {
            db.write(done, |tx, done| Box::pin(store::remove_marks(tx, done))).await?;
        }
        counted += n;
        if (n as i64) < limit {
            break;
        }
    }
    Ok(counted)
}

/// A product's sales in the window.
#[derive(Clone, Debug, PartialEq)]
pub struct ProductLine {
    pub category: String,
    pub sku: String,
    pub name: String,
    pub quantity: i64,
    pub revenue: Money,
    pub orders: i64,
    pub accounts: i64,
}

#[derive(Clone, Debug)]
pub struct ProductsView {
    pub scope: OwnedScope,
    pub months: u32,
    /// The top products, biggest revenue first.
    pub top: Vec<ProductLine>,
    /// Per category (biggest revenue first): its revenue among the top products and its top five.
    pub by_category: Vec<(String, Money, Vec<ProductLine>)>,
    /// Orders with changes the worker has not counted yet (seconds behind while a worker runs).
    pub uncounted: i64,
}

/// The most products a view lists.
pub const TOP_PRODUCTS: i64 = 200;
/// Products shown per category.
pub const PER_CATEGORY: usize = 5;

/// Who buys what: the top products in scope over the window, and per category.
pub async fn products(
    db: &Db,
    now: i64,
    actor: &Actor<'_>,
    filter: &Filter,
    months: u32,
) -> ServiceResult<ProductsView> {
    let scope = scope(db, actor, filter).await?;
    let months = rules::window(Some(months));
    let first = rules::last_months(now, months).remove(0);
    // The windows kept per product end with the current month once the worker has rolled them.
    let month = rules::month_of(now);
    let kept = store::windows_month(db).await? == month;
    let rows =
        store::product_sales(db, scope.store(), &first, kept.then_some((months, month.as_str())), TOP_PRODUCTS).await?;
    let uncounted = store::products_backlog(db).await?;
    let top: Vec<ProductLine> = rows
        .into_iter()
        .map(|r| ProductLine {
            category: r.category,
            sku: r.sku,
            name: r.name,
            quantity: r.quantity,
            revenue: Money::from_raw(r.revenue),
            orders: r.orders,
            accounts: r.accounts,
        })
        .collect();
    let mut by_category: Vec<(String, Money, Vec<ProductLine>)> = Vec::new();
    for p in &top {
        let top_level = p.category.split(" / ").next().unwrap_or("").to_string();
        match by_category.iter_mut().find(|(c, ..)| *c == top_level) {
            Some((_, total, list)) => {
                *total = total.checked_add(p.revenue).ok_or_else(overflow)?;
                if list.len() < PER_CATEGORY {
                    list.push(p.clone());
                }
            }
            None => by_category.push((top_level, p.revenue, vec![p.clone()])),
        }
    }
    by_category.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    Ok(ProductsView { scope, months, top, by_category, uncounted })
}

/// The dashboards, as their CSV files and API paths name them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dashboard {
    Channels,
    Adoption,
    Reorders,
    Carts,
    Products,
}

impl Dashboard {
    pub const ALL: [Dashboard; 5] =
        [Dashboard::Channels, Dashboard::Adoption, Dashboard::Reorders, Dashboard::Carts, Dashboard::Products];

    pub fn as_str(self) -> &'static str {
        match self {
            Dashboard::Channels => "channels",
            Dashboard::Adoption => "adoption",
            Dashboard::Reorders => "reorders",
            Dashboard::Carts => "carts",
            Dashboard::Products => "products",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Dashboard::Channels => "Orders by channel",
            Dashboard::Adoption => "Self-service adoption",
            Dashboard::Reorders => "Reorders",
            Dashboard::Carts => "Abandoned carts",
            Dashboard::Products => "Who buys what",
        }
    }

    pub fn parse(s: &str) -> Option<Dashboard> {
        Dashboard::ALL.into_iter().find(|d| d.as_str() == s)
    }
}

/// A dashboard's table as CSV rows (the header first): what its page shows, every row of it.
pub async fn csv_rows(
    db: &Db,
    now: i64,
    actor: &Actor<'_>,
    which: Dashboard,
    filter: &Filter,
    months: u32,
) -> ServiceResult<Vec<Vec<String>>> {
    let s = |v: &str| v.to_string();
    Ok(match which {
        Dashboard::Channels => {
            let v = channels(db, now, actor, filter, months).await?;
            let mut out = vec![vec![s("month"), s("channel"), s("orders"), s("revenue")]];
            for r in &v.rows {
                for (c, (orders, revenue)) in v.channels.iter().zip(&r.cells) {
                    out.push(vec![r.month.clone(), s(c), orders.to_string(), revenue.to_plain()]);
                }
            }
            out
        }
        Dashboard::Adoption => {
            let v = adoption(db, now, actor, filter, months).await?;
            let mut out = vec![
                ["level", "id", "number", "name", "rep", "orders", "self_service_orders", "order_share_pct"]
                    .into_iter()
                    .chain(["revenue", "self_service_revenue", "revenue_share_pct"])
                    .map(s)
                    .collect::<Vec<_>>(),
            ];
            let row = |level: &str, id: &str, number: &str, name: &str, rep: &str, a: &Adoption| {
                vec![
                    s(level),
                    s(id),
                    s(number),
                    s(name),
                    s(rep),
                    a.orders.to_string(),
                    a.self_orders.to_string(),
                    a.order_share().plain(),
                    a.revenue.to_plain(),
                    a.self_revenue.to_plain(),
                    a.revenue_share().plain(),
                ]
            };
            for m in &v.trend {
                out.push(row("month", &m.month, "", "", "", &m.adoption));
            }
            for r in &v.by_rep {
                out.push(row("rep", &r.id, "", &r.name, &r.rep_name, &r.adoption));
            }
            for a in &v.by_account {
                out.push(row("account", &a.id, &a.number, &a.name, &a.rep_name, &a.adoption));
            }
            out
        }
        Dashboard::Reorders => {
            let (_, lines) = rhythms(db, now, actor, filter).await?;
            let mut out = vec![
                ["account_id", "number", "name", "rep", "orders", "last_order", "days_since_last"]
                    .into_iter()
                    .chain(["usual_interval_days", "overdue_multiple", "stopped_ordering"])
                    .map(s)
                    .collect::<Vec<_>>(),
            ];
            for l in &lines {
                out.push(vec![
                    l.account_id.clone(),
                    l.number.clone(),
                    l.name.clone(),
                    l.rep_name.clone(),
                    l.rhythm.orders.to_string(),
                    date(l.rhythm.last_at),
                    l.since_days.to_string(),
                    l.usual_days.map(|d| d.to_string()).unwrap_or_default(),
                    l.overdue_tenths.map(|t| format!("{}.{}", t / 10, t % 10)).unwrap_or_default(),
                    s(if l.stopped { "yes" } else { "no" }),
                ]);
            }
            out
        }
        Dashboard::Carts => {
            let (_, carts) = abandoned_carts(db, now, actor, filter).await?;
            let mut out = vec![
                ["account_id", "number", "name", "rep", "user", "lines", "value", "last_touched", "age_days"]
                    .into_iter()
                    .map(s)
                    .collect::<Vec<_>>(),
            ];
            for c in &carts {
                out.push(vec![
                    c.account_id.clone(),
                    c.number.clone(),
                    c.name.clone(),
                    c.rep_name.clone(),
                    c.user_name.clone(),
                    c.lines.to_string(),
                    c.value.map(|v| v.to_plain()).unwrap_or_default(),
                    date(c.last_at),
                    c.age_days.to_string(),
                ]);
            }
            out
        }
        Dashboard::Products => {
            let v = products(db, now, actor, filter, months).await?;
            let mut out = vec![
                ["category", "sku", "name", "quantity", "revenue", "orders", "accounts"]
                    .into_iter()
                    .map(s)
                    .collect::<Vec<_>>(),
            ];
            for p in &v.top {
                out.push(vec![
                    p.category.clone(),
                    p.sku.clone(),
                    p.name.clone(),
                    p.quantity.to_string(),
                    p.revenue.to_plain(),
                    p.orders.to_string(),
                    p.accounts.to_string(),
                ]);
            }
            out
        }
    })
}

/// `YYYY-MM-DD` (UTC) of a unix time.
pub fn date(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .map(|t| {
            let d = t.date();
            format!("{:04}-{:02}-{:02}", d.year(), d.month() as u8, d.day())
        })
        .unwrap_or_default()
}
