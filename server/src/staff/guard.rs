//! Two guards in front of the routes.
//!
//! - [`staff_pages`]: a staff page (`GET /staff/…`) sends whoever has no staff session
//!   to the sign-in form at `/staff`, which brings them back after signing in (the API
//!   answers `401` instead, in [`super::extractor::StaffUser`]).
//! - [`same_origin`]: a state-changing request (any method but GET, HEAD, OPTIONS)
//!   that a browser sends on behalf of another site is refused with `403` before it
//!   reaches a handler: cross-site by `Sec-Fetch-Site`, or an `Origin` (else `Referer`)
//!   whose host is not this request's `Host`. Clients that send neither (curl, channel
//!   bridges) are not browsers and carry no ambient cookie of a victim. Behind a
//!   reverse proxy, pass the original `Host` through.

use axum::{
    extract::{FromRequestParts, Request, State},
    http::{header, HeaderMap, StatusCode},
    middleware::Next,
    response::{IntoResponse, Redirect, Response},
    Json,
};
use serde_json::json;

use app::staff::safe_next;

use super::extractor::{NotStaff, StaffUser};
use crate::startup::AppState;

pub async fn staff_pages(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let path = request.uri().path();
    if request.method() != axum::http::Method::GET || !path.starts_with("/staff/") {
        return next.run(request).await;
    }
    let back = safe_next(path).map(str::to_owned);
    let (mut parts, body) = request.into_parts();
    match StaffUser::from_request_parts(&mut parts, &state).await {
        Ok(_) => next.run(Request::from_parts(parts, body)).await,
        Err(NotStaff::SignedOut) => match back {
            Some(path) => Redirect::to(&format!("/staff?next={path}")).into_response(),
            None => Redirect::to("/staff").into_response(),
        },
        Err(NotStaff::Failed(error)) => error.into_response(),
    }
}

pub async fn same_origin(request: Request, next: Next) -> Response {
    if request.method().is_safe() || !cross_site(request.headers()) {
        return next.run(request).await;
    }
    tracing::warn!(
        method = %request.method(),
        path = request.uri().path(),
        origin = ?request.headers().get(header::ORIGIN),
        "refused a cross-site request"
    );
    let body = json!({ "error": {
        "code": "cross_origin",
        "message": "this request came from another site and was refused",
    }});
    (StatusCode::FORBIDDEN, Json(body)).into_response()
}

/// Whether a browser sent this request for another site.
fn cross_site(headers: &HeaderMap) -> bool {
    if headers.get("sec-fetch-site").is_some_and(|site| site == "cross-site") {
        return true;
    }
    let Some(source) = headers.get(header::ORIGIN).or_else(|| headers.get(header::REFERER)) else {
        return false;
    };
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    match (source.to_str().ok().and_then(authority), host) {
        (Some(source), Some(host)) => !source.eq_ignore_ascii_case(host),
        // "Origin: null" (a sandboxed frame, a data: URL) or unreadable: refuse.
        _ => true,
    }
}

/// `host[:port]` of an origin or URL such as `https://shop.example:8443/x`.
fn authority(url: &str) -> Option<&str> {
    let rest = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://"))?;
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    Some(&rest[..end]).filter(|a| !a.is_empty())
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.insert(*name, HeaderValue::from_static(value));
        }
        headers
    }

    #[test]
    fn only_another_site_is_cross_site() {
        let host = ("host", "shop.example:3000");
        assert!(!cross_site(&headers(&[host])), "no Origin: not a browser form");
        assert!(!cross_site(&headers(&[host, ("origin", "http://shop.example:3000")])));
        assert!(!cross_site(&headers(&[host, ("referer", "https://SHOP.example:3000/staff")])));
        assert!(cross_site(&headers(&[host, ("origin", "http://evil.example")])));
        assert!(cross_site(&headers(&[host, ("origin", "http://shop.example:3001")])));
        assert!(cross_site(&headers(&[host, ("origin", "null")])));
        assert!(cross_site(&headers(&[host, ("sec-fetch-site", "cross-site")])));
        assert!(cross_site(&headers(&[("origin", "http://shop.example:3000")])), "no Host");
    }

    #[test]
    fn next_is_a_plain_staff_path() {
        assert_eq!(safe_next("/staff/conversations/abc-1"), Some("/staff/conversations/abc-1"));
        assert_eq!(safe_next("/returns"), None);
        assert_eq!(safe_next("/staff//evil.example"), None);
        assert_eq!(safe_next("/staff/a?b=c"), None);
        assert_eq!(safe_next("/staff/%2F%2Fevil"), None);
    }
}
