//! The staff console: sign-in at `/staff`, conversations found by their words, each
//! conversation's audit timeline from message to order event, and the returns review
//! queue. Every server function checks the staff session itself; signed out, the pages
//! send the browser to the sign-in form. Every form that changes something carries the
//! session's CSRF token, and its server function checks it.

pub mod api_keys;
pub mod conversations;
pub mod handoffs;
pub mod metrics;
pub mod orders;
pub mod returns;
pub mod webhooks;

pub use api_keys::StaffApiKeysPage;
pub use conversations::{StaffConversationsPage, StaffTimelinePage};
pub use handoffs::StaffHandoffsPage;
pub use metrics::StaffMetricsPage;
pub use orders::StaffOrderPage;
pub use returns::StaffReturnsPage;
pub use webhooks::StaffWebhooksPage;

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use serde::{Deserialize, Serialize};

use crate::error::{AppError, ErrorNotice};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaffAccount {
    pub email: String,
    pub role: String,
    /// For the hidden `csrf` field of the console's forms.
    pub csrf: String,
}

/// Whether `path` is a page of the staff console (and gets its bundle).
pub fn is_staff_path(path: &str) -> bool {
    path == "/staff" || path.starts_with("/staff/")
}

/// `path` if it is a staff page that sign-in may send the browser back to (`?next=`):
/// a plain `/staff/…` path that cannot lead off the site.
pub fn safe_next(path: &str) -> Option<&str> {
    let safe = path.starts_with("/staff/")
        && path.len() <= 200
        && !path.contains("//")
        && path.bytes().all(|b| b.is_ascii_alphanumeric() || b"/-_.".contains(&b));
    safe.then_some(path)
}

#[server(endpoint = "staff/me")]
pub async fn staff_me() -> Result<Option<StaffAccount>, AppError> {
    Ok(ssr::signed_in().await?.map(|s| StaffAccount { email: s.email, role: s.role, csrf: s.csrf }))
}

#[server(endpoint = "staff/sign-in")]
pub async fn staff_sign_in(
    email: String,
    password: String,
    #[server(default)] next: String,
) -> Result<(), AppError> {
    let port = crate::port::get::<dyn crate::port::StaffPort>()?;
    let session = crate::port::session().await?;
    let client = crate::port::client_ip().await;
    port.sign_in(&session, &email, password, client).await.map_err(crate::port::app_error)?;
    leptos_axum::redirect(safe_next(&next).unwrap_or("/staff"));
    Ok(())
}

#[server(endpoint = "staff/sign-out")]
pub async fn staff_sign_out(csrf: String) -> Result<(), AppError> {
    let (port, _) = ssr::require_form(&csrf).await?;
    let session = crate::port::session().await?;
    port.sign_out(&session).await.map_err(crate::port::app_error)?;
    leptos_axum::redirect("/staff");
    Ok(())
}

#[cfg(feature = "ssr")]
pub(crate) mod ssr {
    use std::sync::Arc;

    use serde_json::Value;

    use crate::{
        error::AppError,
        port::{StaffIdentity, StaffPort},
    };

    pub async fn signed_in() -> Result<Option<StaffIdentity>, AppError> {
        let port = crate::port::get::<dyn StaffPort>()?;
        let session = crate::port::session().await?;
        port.current(&session).await.map_err(crate::port::app_error)
    }

    /// [`require`], for a form: its `csrf` field must be the session's token, else
    /// nothing happens and the answer is a 403.
    pub async fn require_form(csrf: &str) -> Result<(Arc<dyn StaffPort>, StaffIdentity), AppError> {
        let (port, staff) = require().await?;
        let (a, b) = (staff.csrf.as_bytes(), csrf.as_bytes());
        let same = a.len() == b.len()
            && !a.is_empty()
            && a.iter().zip(b).fold(0u8, |d, (x, y)| d | (x ^ y)) == 0;
        if !same {
            return Err(crate::port::app_error(crate::port::PortError::Forbidden(
                "This form has expired; reload the page and try again.".into(),
            )));
        }
        Ok((port, staff))
    }

    /// The port and the signed-in staff member, or a redirect to sign-in and a 401.
    pub async fn require() -> Result<(Arc<dyn StaffPort>, StaffIdentity), AppError> {
        let port = crate::port::get::<dyn StaffPort>()?;
        match signed_in().await? {
            Some(staff) => Ok((port, staff)),
            None => {
                if let Some(response) =
                    leptos::prelude::use_context::<leptos_axum::ResponseOptions>()
                {
                    response.set_status(http::StatusCode::UNAUTHORIZED);
                }
                Err(AppError::SignedOut)
            }
        }
    }

    pub fn pretty(value: &Value) -> String {
        serde_json::to_string_pretty(value).unwrap_or_default()
    }
}

/// Shown instead of a staff page to whoever is not signed in.
#[component]
fn SignInFirst() -> impl IntoView {
    view! {
        <p class="notice" role="status">
            "Please " <A href="/staff">"sign in"</A> " with a staff account."
        </p>
    }
}

pub(crate) fn staff_error(error: AppError) -> AnyView {
    match error {
        AppError::SignedOut => view! { <SignInFirst/> }.into_any(),
        error => view! { <ErrorNotice error/> }.into_any(),
    }
}

/// `/staff`: the sign-in form, or the console's front page.
#[component]
pub fn StaffHomePage() -> impl IntoView {
    let query = leptos_router::hooks::use_query_map();
    let next = move || query.with(|q| q.get("next").unwrap_or_default());
    let sign_in = ServerAction::<StaffSignIn>::new();
    let sign_out = ServerAction::<StaffSignOut>::new();
    let me =
        Resource::new(move || (sign_in.version().get(), sign_out.version().get()), |_| staff_me());
    let error = move || match sign_in.value().get() {
        Some(Err(error)) => Some(error.to_string()),
        _ => None,
    };
    view! {
        <Title text="Staff"/>
        <section class="staff" aria-labelledby="staff-title">
            <h1 id="staff-title">"Staff console"</h1>
            <Transition fallback=|| view! { <p class="loading" role="status">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match me.await {
                        Ok(Some(me)) => view! {
                            <p>"Signed in as " <strong class="staff-email">{me.email}</strong> " (" {me.role} ")."</p>
                            <ul class="staff-nav">
                                <li><A href="/staff/conversations">"Conversations"</A></li>
                                <li><A href="/staff/handoffs">"Waiting for a person"</A></li>
                                <li><A href="/staff/metrics">"Metrics"</A></li>
                                <li><A href="/staff/returns">"Returns in review"</A></li>
                                <li><A href="/staff/webhooks">"Webhooks"</A></li>
                                <li><A href="/staff/api-keys">"API keys"</A></li>
                            </ul>
                            <ActionForm action=sign_out>
                                <input type="hidden" name="csrf" value=me.csrf/>
                                <button type="submit" class="link-button">"Sign out"</button>
                            </ActionForm>
                        }
                        .into_any(),
                        Ok(None) => view! {
                            <ActionForm action=sign_in attr:class="card form" attr:aria-labelledby="sign-in-title">
                                <h2 id="sign-in-title">"Sign in"</h2>
                                <input type="hidden" name="next" value=next/>
                                <label for="staff-email">"Email"</label>
                                <input id="staff-email" name="email" type="email" required autocomplete="username"/>
                                <label for="staff-password">"Password"</label>
                                <input id="staff-password" name="password" type="password" required autocomplete="current-password"/>
                                {move || error().map(|e| view! { <p class="form-error" role="alert">{e}</p> })}
                                <button type="submit" class="button">"Sign in"</button>
                            </ActionForm>
                            <p class="line-meta">
                                "No account yet? An administrator creates one on the server with "
                                <code>"gapless staff add EMAIL --role agent"</code> "."
                            </p>
                        }
                        .into_any(),
                        Err(error) => view! { <ErrorNotice error/> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}
