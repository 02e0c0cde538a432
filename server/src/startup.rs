//! Builds the HTTP application: routes, shared state and middleware. Tests call
//! [`Application::build`] with port 0 and a fresh database.

use std::{net::SocketAddr, path::Path, sync::Arc, time::Duration};

use anyhow::Context;
use app::{
    port::{ChatPort, ReturnsPort, StaffPort},
    shell, App,
};
use axum::{
    body::Body,
    extract::FromRef,
    http::{header, HeaderValue, Response, StatusCode},
    routing::get,
    Router,
};
use gapless_domain::returns::ReturnPolicy;
use gapless_store::Store;
use leptos::prelude::*;
use leptos_axum::{generate_route_list, LeptosRoutes};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tower::util::option_layer;
use tower_http::{
    catch_panic::CatchPanicLayer,
    limit::RequestBodyLimitLayer,
    set_header::SetResponseHeaderLayer,
    timeout::TimeoutLayer,
    trace::{DefaultOnResponse, TraceLayer},
};
use tower_sessions::SessionManagerLayer;
use tracing::Level;

use crate::{
    agents::{acp, mcp, shop::AgentShop},
    catalog_import,
    chat::{
        api::{self as chat_api, Limits},
        limits::{Rate, RequestLimiter},
        llm::{self, ExtractorMode},
        service::{ChatService, LlmChat},
        widget::WidgetChat,
    },
    cli::ServeArgs,
    email::Mailer,
    health,
    lookups::LookupLimiter,
    metrics::{self, Metrics},
    openapi,
    payments::{
        sweep::{self, SweepSettings},
        Payments,
    },
    returns::{
        api::{self as returns_api, ReturnsApi},
        portal::PortalReturns,
        service::{Clock, ReturnsService},
    },
    sessions::{self, DbSessionStore},
    staff::{console::StaffConsole, gate::StaffGate},
    webhooks::worker::{DeliveryWorker, WorkerSettings},
};

/// What every handler, page and server function can reach: one `Arc`, since axum
/// clones the state for every request (the handler and each middleware with state), and
/// a clone of the fields themselves was a dozen reference counts and the Leptos
/// options' strings, each taken and given back per request (~1.5 % of a chat turn's
/// CPU on the request threads).
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl AppState {
    pub fn new(shared: Shared) -> Self {
        AppState(Arc::new(shared))
    }
}

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// What the state's extractors and Leptos take from it by value.
impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

impl FromRef<AppState> for Arc<dyn Store> {
    fn from_ref(state: &AppState) -> Self {
        state.store.clone()
    }
}

impl FromRef<AppState> for Arc<StaffGate> {
    fn from_ref(state: &AppState) -> Self {
        state.staff_gate.clone()
    }
}

/// The fields of [`AppState`].
pub struct Shared {
    pub leptos_options: LeptosOptions,
    pub store: Arc<dyn Store>,
    pub chat: Arc<ChatService>,
    /// The chat as the widget's server functions reach it.
    pub widget: Arc<dyn ChatPort>,
    /// The returns service as the portal's server functions reach it.
    pub portal: Arc<dyn ReturnsPort>,
    /// Sign-in, the audit trail and return actions as the staff console reaches them.
    pub staff: Arc<dyn StaffPort>,
    /// The returns service itself, for what staff read about returns (the dashboard).
    pub returns: Arc<ReturnsService>,
    pub metrics: Arc<Metrics>,
    /// Staff sign-in (rate limits, password checks) and staff sessions' clock, one for
    /// the JSON API and the console.
    pub staff_gate: Arc<StaffGate>,
    /// `GAPLESS_DELIVERY_PROMISE_DAYS`: what the dashboard's on-time counts against.
    pub delivery_promise: time::Duration,
    /// Stripe, with `GAPLESS_PAYMENTS=stripe`.
    pub payments: Option<Arc<Payments>>,
}

/// How often expired sessions are deleted.
const SESSION_CLEANUP: Duration = Duration::from_secs(3600);

/// Largest request body accepted anywhere; chat messages and forms are far smaller.
const BODY_LIMIT: usize = 64 * 1024;

pub struct Application {
    listener: TcpListener,
    router: Router,
    /// Started with the server, stopped after it.
    worker: Option<DeliveryWorker>,
    /// Ends the MCP sessions when the server stops.
    agents_stop: CancellationToken,
    /// Started with the server when payments are on, stopped after it.
    payment_sweep: Option<PaymentSweep>,
}

struct PaymentSweep {
    store: Arc<dyn Store>,
    payments: Arc<Payments>,
    settings: SweepSettings,
}

impl Application {
    /// Binds the listener (port 0 picks a free one) and assembles the router.
    pub async fn build(args: &ServeArgs, store: Arc<dyn Store>) -> anyhow::Result<Self> {
        Self::build_with_clock(args, store, Arc::new(time::OffsetDateTime::now_utc)).await
    }

    /// As [`Application::build`], reading the time where staff sessions need it (their
    /// idle deadline) from `clock`: tests move it forward by hours.
    pub async fn build_with_clock(
        args: &ServeArgs,
        store: Arc<dyn Store>,
        clock: Clock,
    ) -> anyhow::Result<Self> {
        crate::tls::install_crypto_provider();
        let listener = TcpListener::bind(args.site_addr).await.with_context(|| {
            format!(
                "cannot listen on {} (is another server using it? set LEPTOS_SITE_ADDR to a free address)",
                args.site_addr
            )
        })?;
        let addr = listener.local_addr()?;
        let leptos_options = LeptosOptions::builder()
            .output_name("gapless")
            .site_root(args.site_root.to_string_lossy().as_ref())
            .site_pkg_dir("pkg")
            .site_addr(addr)
            .build();
        if !args.site_root.join("pkg").join("gapless.js").exists() {
            tracing::warn!(
                site_root = %args.site_root.display(),
                "no built front end found: pages render but will not hydrate (run `make build`)"
            );
        }
        let metrics = Arc::new(Metrics::new(
            args.metrics_token.clone(),
            Duration::from_millis(args.metrics_refresh_ms),
        ));
        if args.metrics_token.is_none() {
            tracing::info!("/metrics is off: set GAPLESS_METRICS_TOKEN to scrape it");
        }
        let limits = Limits {
            per_ip: Rate { per_second: args.rate_ip_per_second, burst: args.rate_ip_burst },
            per_conversation: Rate {
                per_second: args.rate_chat_per_second,
                burst: args.rate_chat_burst,
            },
        };
        // One budget per order number, RMA and email, whichever way the lookup comes in.
        let lookups = Arc::new(LookupLimiter::new(
            limits.per_ip,
            Rate { per_second: args.rate_lookup_per_second, burst: args.rate_lookup_burst },
        ));
        let mailer = match args.mail_settings()? {
            Some(settings) => Some(Arc::new(Mailer::new(&settings)?)),
            None => {
                tracing::info!("customer email is off: set GAPLESS_SMTP_URL and GAPLESS_MAIL_FROM");
                None
            }
        };
        let payments = Payments::from_args(&args.payments)?;
        let payment_sweep = match (&payments, args.payments.sweep_seconds) {
            (Some(payments), seconds) if seconds > 0 => Some(PaymentSweep {
                store: store.clone(),
                payments: payments.clone(),
                settings: SweepSettings {
                    interval: Duration::from_secs(seconds),
                    ..SweepSettings::default()
                },
            }),
            _ => None,
        };
        let returns_service = Arc::new(
            ReturnsService::new(store.clone(), load_policy(&args.return_policy)?)
                .with_payments(payments.clone()),
        );
        let chat = Arc::new(
            ChatService::with_llm(store.clone(), llm_chat(args, &metrics)?)
                .with_lookup_limits(lookups.clone())
                .with_customer_email(mailer.is_some())
                .with_payments(payments.clone()),
        );
        let agents = Arc::new(AgentShop::new(
            chat.clone(),
            returns_service.clone(),
            store.clone(),
            lookups.clone(),
            RequestLimiter::new(limits.per_ip, limits.per_conversation),
        ));
        let widget: Arc<dyn ChatPort> = Arc::new(WidgetChat::new(
            chat.clone(),
            RequestLimiter::new(limits.per_ip, limits.per_conversation),
        ));
        let staff_gate = Arc::new(StaffGate::new(
            clock,
            args.signin_hashes,
            Duration::from_millis(args.signin_wait_ms),
        ));
        let returns = ReturnsApi {
            store: store.clone(),
            staff_gate: staff_gate.clone(),
            service: returns_service,
            limiter: lookups,
        };
        let worker = if args.webhook_worker {
            let settings = WorkerSettings {
                timeout: Duration::from_millis(args.webhook_timeout_ms.max(1)),
                // For one wave of sends, each within the timeout; a round of several
                // waves holds its claim one timeout longer for each further wave
                // (`WorkerSettings::claim_lease`).
                lease: Duration::from_millis(args.webhook_timeout_ms.max(1)) * 2
                    + Duration::from_secs(5),
                retention: Duration::from_secs(u64::from(args.webhook_retention_days) * 86_400),
                ..WorkerSettings::default()
            };
            let worker = DeliveryWorker::new(store.clone(), settings, Some(metrics.webhooks()))?;
            Some(match mailer {
                Some(mailer) => worker.with_mailer(mailer, Some(metrics.email())),
                None => worker,
            })
        } else {
            tracing::info!(
                "this server sends no webhooks and no email (GAPLESS_WEBHOOK_WORKER=false)"
            );
            None
        };
        let sessions = DbSessionStore::new(store.clone());
        sessions.spawn_cleanup(SESSION_CLEANUP);
        let portal: Arc<dyn ReturnsPort> =
            Arc::new(PortalReturns::new(returns.service.clone(), returns.limiter.clone()));
        let delivery_promise = time::Duration::days(i64::from(args.delivery_promise_days));
        let staff: Arc<dyn StaffPort> = Arc::new(
            StaffConsole::new(store.clone(), returns.service.clone(), staff_gate.clone())
                .with_delivery_promise(delivery_promise),
        );
        let state = AppState::new(Shared {
            leptos_options,
            store,
            chat,
            widget,
            portal,
            staff,
            returns: returns.service.clone(),
            metrics,
            staff_gate,
            delivery_promise,
            payments,
        });
        let edges = Edges {
            secure_cookies: args.secure_cookies,
            request_timeout: Duration::from_millis(args.request_timeout_ms.max(1)),
        };
        let agents_stop = CancellationToken::new();
        let checkout = Arc::new(acp::Acp::new(
            agents.clone(),
            state.store.clone(),
            state.payments.clone(),
            edges.request_timeout,
        ));
        let router = router(
            state,
            &limits,
            returns,
            mcp::routes(agents, limits.per_ip, agents_stop.clone())
                .merge(acp::routes(checkout, limits.per_ip)),
            sessions::layer(sessions, args.secure_cookies),
            &edges,
        );
        Ok(Application { listener, router, worker, agents_stop, payment_sweep })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener.local_addr().expect("a bound listener has an address")
    }

    /// Serves until SIGINT or SIGTERM, then finishes the requests in flight.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        tracing::info!(address = %format!("http://{}", self.local_addr()), "gapless is listening");
        // The peer address keys the per-IP rate limit.
        let worker = self.worker.map(DeliveryWorker::spawn);
        let sweep_stop = CancellationToken::new();
        let sweep = self.payment_sweep.map(|PaymentSweep { store, payments, settings }| {
            sweep::spawn(store, payments, settings, sweep_stop.clone())
        });
        let service = self.router.into_make_service_with_connect_info::<SocketAddr>();
        let agents_stop = self.agents_stop;
        let served = axum::serve(self.listener, service)
            .with_graceful_shutdown(async move {
                shutdown_signal().await;
                agents_stop.cancel();
            })
            .await
            .context("the server stopped with an error");
        // Sends in flight finish (each within the webhook timeout); claimed messages not
        // yet sent go back to the queue for the next start or another server.
        if let Some(worker) = worker {
            worker.stop().await;
        }
        sweep_stop.cancel();
        if let Some(sweep) = sweep {
            // A round in flight finishes its current Stripe call or is dropped; either
            // way the next start picks the order up again.
            sweep.abort();
            let _ = sweep.await;
        }
        served
    }
}

/// Settings of the layers every request passes.
#[derive(Debug, Clone)]
pub struct Edges {
    /// The shop is served over HTTPS: browsers are told to keep to it (HSTS).
    pub secure_cookies: bool,
    /// Longest time a handler may take before the request is answered `503 timeout`.
    pub request_timeout: Duration,
}

/// One year: browsers keep to HTTPS for this long after a visit.
const HSTS: &str = "max-age=31536000";

pub fn router(
    state: AppState,
    limits: &Limits,
    returns: ReturnsApi,
    agents: Router<AppState>,
    sessions: SessionManagerLayer<DbSessionStore>,
    edges: &Edges,
) -> Router {
    let routes = generate_route_list(App);
    let context = {
        let store = state.store.clone();
        let widget = state.widget.clone();
        let portal = state.portal.clone();
        let staff = state.staff.clone();
        move || {
            provide_context(store.clone());
            provide_context(widget.clone());
            provide_context(portal.clone());
            provide_context(staff.clone());
        }
    };
    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/metrics", get(metrics::scrape))
        .merge(chat_api::routes(limits))
        .merge(openapi::routes())
        .merge(crate::audit::routes())
        .merge(returns_api::routes(returns))
        .merge(agents)
        .merge(crate::fulfilment::api::routes())
        .merge(crate::fulfilment::keys_api::routes())
        .merge(crate::payments::webhook::routes())
        .merge(crate::staff::api::routes())
        .merge(crate::staff::handoffs::routes())
        .merge(crate::staff::dashboard::routes())
        .merge(crate::webhooks::api::routes())
        .leptos_routes_with_context(&state, routes, context, {
            let options = state.leptos_options.clone();
            move || shell(options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        .with_state(state.clone())
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::staff::guard::staff_pages,
        ))
        .layer(sessions)
        .layer(axum::middleware::from_fn(crate::staff::guard::same_origin))
        .layer(RequestBodyLimitLayer::new(BODY_LIMIT))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(option_layer(edges.secure_cookies.then(|| {
            SetResponseHeaderLayer::if_not_present(
                header::STRICT_TRANSPORT_SECURITY,
                HeaderValue::from_static(HSTS),
            )
        })))
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            edges.request_timeout,
        ))
        // Outside the layers that answer on their own (body limit, timeout, panic,
        // unknown routes and methods), so that every `/api/v1` error has the JSON body.
        .layer(axum::middleware::from_fn(crate::api_error::json_error_bodies))
        .layer(axum::middleware::from_fn_with_state(state.metrics.clone(), metrics::track))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(crate::telemetry::RequestSpan)
                .on_response(DefaultOnResponse::new().level(Level::INFO)),
        )
}

/// A panic in a handler is a bug: log it, and answer like any other internal error.
fn panic_response(panic: Box<dyn std::any::Any + Send + 'static>) -> Response<Body> {
    let detail = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("(no message)");
    tracing::error!(panic = detail, "request handler panicked");
    Response::builder()
        .status(StatusCode::INTERNAL_SERVER_ERROR)
        .header(header::CONTENT_TYPE, "text/plain; charset=utf-8")
        .body(Body::from("Something went wrong on our side. Please try again in a moment."))
        .expect("a static response is valid")
}

/// The model side of the chat for `GAPLESS_EXTRACTOR=llm|shadow`; `None` for `rules`.
fn llm_chat(args: &ServeArgs, metrics: &Metrics) -> anyhow::Result<Option<LlmChat>> {
    let mode = args.extractor;
    if mode == ExtractorMode::Rules {
        return Ok(None);
    }
    let what =
        format!("GAPLESS_EXTRACTOR={}", if mode == ExtractorMode::Llm { "llm" } else { "shadow" });
    let settings = args.llm.settings(&what)?;
    tracing::info!(
        extractor = ?mode,
        model = %settings.model,
        timeout_ms = settings.timeout.as_millis() as u64,
        phrase = settings.phrase,
        "chat extractor uses a model"
    );
    let extractor = llm::openai_extractor(&settings, Some(metrics.llm()))?;
    Ok(Some(LlmChat { mode, extractor, metrics: Some(metrics.llm()) }))
}

/// Reads and validates the return policy; the error names the file and every problem.
fn load_policy(path: &Path) -> anyhow::Result<ReturnPolicy> {
    let text = std::fs::read_to_string(path).with_context(|| {
        format!(
            "cannot read the return policy {} (set GAPLESS_RETURN_POLICY to a readable file)",
            path.display()
        )
    })?;
    ReturnPolicy::from_json(&text)
        .map_err(|e| anyhow::anyhow!("the return policy {} was rejected:\n{e}", path.display()))
}

/// Imports `catalog` when the database has no catalog yet. An empty path skips it.
pub async fn load_catalog_on_first_start(store: &dyn Store, catalog: &Path) -> anyhow::Result<()> {
    if catalog.as_os_str().is_empty() {
        return Ok(());
    }
    if store.catalog().await.context("cannot read the catalog from the database")?.is_some() {
        return Ok(());
    }
    catalog_import::import_file(store, catalog)
        .await
        .context("the first-start catalog import failed (set GAPLESS_CATALOG to a valid file, or to an empty value to start without one)")?;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
    // Bounded: a stuck connection must not keep the process alive forever.
    tokio::spawn(async {
        tokio::time::sleep(Duration::from_secs(10)).await;
        tracing::warn!("requests still open after 10 s; exiting");
        std::process::exit(0);
    });
}
