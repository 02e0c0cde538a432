//! The one error type server functions return to the browser. Its messages are written
//! for the person in front of the page: internal causes are logged on the server, never
//! sent.

use leptos::server_fn::{
    codec::JsonEncoding,
    error::{FromServerFnError, ServerFnErrorErr},
};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    /// Something failed on our side; the cause is in the server log.
    #[error("Something went wrong on our side. Please try again in a moment.")]
    Internal,
    /// The shopper's input cannot be taken; the text says why, in their words.
    #[error("{0}")]
    Rejected(String),
    #[error("You are sending messages faster than we can answer. Please wait a moment.")]
    TooMany,
    #[error("The shop cannot take orders right now. Please try again shortly.")]
    Unavailable,
    /// A staff page or action without a staff session.
    #[error("Please sign in with a staff account.")]
    SignedOut,
    /// The request did not reach the server or its answer could not be read.
    #[error("We could not reach the shop. Check your connection and try again.")]
    Transport,
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(error: ServerFnErrorErr) -> Self {
        #[cfg(feature = "ssr")]
        {
            tracing::warn!(%error, "server function failed before reaching its body");
            // A form with a missing or malformed field: the sender's mistake, a 400.
            if matches!(
                error,
                ServerFnErrorErr::Args(_)
                    | ServerFnErrorErr::MissingArg(_)
                    | ServerFnErrorErr::Deserialization(_)
            ) {
                if let Some(response) =
                    leptos::prelude::use_context::<leptos_axum::ResponseOptions>()
                {
                    response.set_status(http::StatusCode::BAD_REQUEST);
                }
                return AppError::Rejected(
                    "This form was incomplete; reload the page and try again.".into(),
                );
            }
        }
        #[cfg(not(feature = "ssr"))]
        let _ = error;
        AppError::Transport
    }
}

#[cfg(feature = "ssr")]
impl AppError {
    /// Logs `cause` with its chain and returns the opaque [`AppError::Internal`], so
    /// callers write `.map_err(|e| AppError::internal("loading the catalog", e))`.
    pub fn internal(context: &str, cause: impl std::error::Error) -> Self {
        tracing::error!(error = %cause, error.debug = ?cause, "{context} failed");
        if let Some(response) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>() {
            response.set_status(http::StatusCode::INTERNAL_SERVER_ERROR);
        }
        AppError::Internal
    }
}

/// Shown wherever a section of a page could not load.
#[leptos::component]
pub fn ErrorNotice(error: AppError) -> impl leptos::IntoView {
    use leptos::prelude::*;
    view! {
        <div class="notice notice-error" role="alert">
            <p>{error.to_string()}</p>
        </div>
    }
}
