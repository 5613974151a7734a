//! The in-process cache of catalog pages: for an account and a query, the products listed and
//! their prices for the day (and the category tree) — everything a catalog page shows but stock,
//! which is read fresh on every page.
//!
//! Why: a signed-in catalog page (50 products with the account's contract prices) cost ~1.7 ms of
//! CPU, most of it in the listing and pricing queries and in decoding their JSON rows; the page's
//! target is 5,000/s on two cores.
//!
//! Why it is never stale: each entry is kept under the catalog version (`store::versions`) read
//! *before* its data was read, and a request uses only entries of the version it reads itself.
//! Every write to the tables behind a page bumps that version in its own transaction (triggers),
//! on whichever node made it; so once a change is committed, the next page on every node reads a
//! newer version, drops the old entries and reads the data again.

use super::ServiceResult;
use super::catalog::PricedProduct;
use crate::store::categories::CategoryRow;
use crate::store::{Db, versions};
use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};

/// At most this many pages are kept per database (each ~50 products); beyond, the cache starts
/// over (simple, and bounded: a few tens of MB at most).
const MAX_PAGES: usize = 512;

/// What identifies a page: who sees it, what was asked, and the day (prices have validity dates).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(super) struct PageKey {
    pub account_id: String,
    pub category_id: Option<String>,
    pub term: String,
    pub after: Option<(String, String)>,
    pub limit: i64,
    pub day: i32,
}

/// A cached page: its products with prices (stock is filled in per request) and the keyset of the
/// next page.
pub(super) struct CachedPage {
    pub items: Vec<PricedProduct>,
    pub next: Option<(String, String)>,
}

#[derive(Default)]
struct Cache {
    version: i64,
    pages: HashMap<PageKey, Arc<CachedPage>>,
    categories: Option<Arc<Vec<CategoryRow>>>,
}

impl Cache {
    /// Moves the cache to `version` if that is newer (dropping everything older); whether the
    /// cache now holds that version.
    fn at(&mut self, version: i64) -> bool {
        if version > self.version {
            *self = Cache { version, ..Cache::default() };
        }
        self.version == version
    }
}

static CACHES: LazyLock<Mutex<HashMap<String, Arc<Mutex<Cache>>>>> = LazyLock::new(Default::default);

/// The cache as one request sees it: at the catalog version it read.
pub(super) struct View {
    cache: Arc<Mutex<Cache>>,
    version: i64,
}

/// Reads the current catalog version (before any cached data is read) and returns the view.
pub(super) async fn view(db: &Db) -> ServiceResult<View> {
    let version = versions::catalog(db).await?;
    let cache = CACHES.lock().unwrap_or_else(|e| e.into_inner()).entry(db.identity()).or_default().clone();
    Ok(View { cache, version })
}

impl View {
    fn with<T>(&self, f: impl FnOnce(&mut Cache) -> T) -> Option<T> {
        let mut c = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        c.at(self.version).then(|| f(&mut c))
    }

    pub fn page(&self, key: &PageKey) -> Option<Arc<CachedPage>> {
        self.with(|c| c.pages.get(key).cloned()).flatten()
    }

    pub fn keep_page(&self, key: PageKey, page: Arc<CachedPage>) {
        self.with(|c| {
            if c.pages.len() >= MAX_PAGES {
                c.pages.clear();
            }
            c.pages.insert(key, page);
        });
    }

    pub fn categories(&self) -> Option<Arc<Vec<CategoryRow>>> {
        self.with(|c| c.categories.clone()).flatten()
    }

    pub fn keep_categories(&self, categories: Arc<Vec<CategoryRow>>) {
        self.with(|c| c.categories = Some(categories));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_view_uses_only_entries_of_its_own_version() {
        let cache = Arc::new(Mutex::new(Cache::default()));
        let key =
            PageKey { account_id: "a".into(), category_id: None, term: String::new(), after: None, limit: 50, day: 1 };
        let v1 = View { cache: cache.clone(), version: 1 };
        v1.keep_page(key.clone(), Arc::new(CachedPage { items: Vec::new(), next: None }));
        assert!(v1.page(&key).is_some());
        // A newer version drops what the older one kept …
        let v2 = View { cache: cache.clone(), version: 2 };
        assert!(v2.page(&key).is_none());
        // … and a request that read the older version neither reads nor keeps anything.
        v1.keep_page(key.clone(), Arc::new(CachedPage { items: Vec::new(), next: None }));
        assert!(v1.page(&key).is_none());
        assert!(v2.page(&key).is_none());
    }
}
