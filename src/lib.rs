//! Portico: a self-hosted B2B customer portal and unified order management system.
//!
//! Layers (DESIGN.md §2): `web` (pages) and `api` (JSON) → `service` (use cases) → `domain` (pure
//! rules) and `store` (SQL, SQLite or PostgreSQL); `app` holds the state and the router that mounts
//! `web` and `api`, which never import each other.

pub mod api;
pub mod app;
pub mod config;
pub mod demo;
pub mod domain;
pub mod jobs;
pub mod ops;
pub mod service;
pub mod store;
pub mod web;

pub use app::{AppState, build_router};
pub use config::Config;
pub use store::Db;

/// Why the application cannot start.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error(transparent)]
    Database(#[from] store::ConnectError),
    #[error(transparent)]
    ImageDir(#[from] store::image_dir::ImageDirError),
}

/// Checks the image directory (when one is set), opens the database, applies migrations and
/// returns the application state.
pub async fn open(config: Config) -> Result<AppState, OpenError> {
    // Checked first: a node that could not keep images refuses to start before touching anything.
    let image_dir = match &config.image_dir {
        Some(path) => {
            let path = path.clone();
            let opened = tokio::task::spawn_blocking(move || store::image_dir::ImageDir::open(&path)).await;
            Some(opened.unwrap_or_else(|e| panic!("checking the image directory stopped: {e}"))?)
        }
        None => None,
    };
    let db = Db::connect(&config.database_url).await?;
    db.migrate().await?;
    // This process's first heartbeat, before it can claim an Idempotency-Key: a claim whose
    // process has no heartbeat counts as abandoned.
    store::idempotency::beat(&db, store::idempotency::unix_now()).await.map_err(store::ConnectError::Open)?;
    Ok(AppState::new(db, config, image_dir))
}

/// Serves until SIGTERM or Ctrl-C, then finishes in-flight requests and closes the pool.
pub async fn serve(state: AppState, listener: tokio::net::TcpListener) -> std::io::Result<()> {
    let db = state.db.clone();
    if let Some(addr) = state.config.metrics_bind {
        // Metrics alone, on their own (private) address; it ends with the process.
        let metrics = tokio::net::TcpListener::bind(addr).await?;
        tracing::info!(%addr, "serving /metrics");
        let router = ops::metrics_router(state.clone());
        tokio::spawn(async move { axum::serve(metrics, router).await });
    }
    let worker =
        state.config.run_worker.then(|| jobs::spawn(db.clone(), state.config.webhooks.clone(), state.metrics.clone()));
    let app = build_router(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, app).with_graceful_shutdown(shutdown_signal()).await?;
    if let Some((stop, handle)) = worker {
        // The pass in flight finishes (its attempts are recorded), then the worker gives back its leases.
        let _ = stop.send(true);
        if tokio::time::timeout(std::time::Duration::from_secs(30), handle).await.is_err() {
            tracing::warn!("the outbox worker did not stop within 30 s; its leases run out by themselves");
        }
    }
    // A clean stop: Idempotency-Keys this process still holds are free at once.
    if let Err(e) = store::idempotency::sign_off(&db).await {
        tracing::warn!(error = %e, "removing this process's heartbeat failed");
    }
    db.close().await;
    Ok(())
}

/// Runs the outbox worker alone (`portico worker`) until SIGTERM or Ctrl-C.
pub async fn work(state: AppState) {
    let (stop, handle) = jobs::spawn(state.db.clone(), state.config.webhooks.clone(), state.metrics.clone());
    shutdown_signal().await;
    let _ = stop.send(true);
    let _ = handle.await;
    if let Err(e) = store::idempotency::sign_off(&state.db).await {
        tracing::warn!(error = %e, "removing this process's heartbeat failed");
    }
    state.db.close().await;
}

pub(crate) async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutdown signal received; finishing in-flight requests");
}
