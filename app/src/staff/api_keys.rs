//! `/staff/api-keys`: keys for the shop's systems (a warehouse or carrier integration
//! reports shipments with one). For admins: create a key (shown once), see who has one,
//! revoke it.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use serde::{Deserialize, Serialize};

use super::staff_error;
use crate::error::AppError;

/// A key as listed: its name and dates, never the key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKeyView {
    pub id: String,
    pub name: String,
    pub created_at: String,
    pub revoked_at: Option<String>,
}

/// A key just created: the one time it is shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedApiKey {
    pub id: String,
    pub name: String,
    pub key: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKeysPage {
    pub keys: Vec<ApiKeyView>,
    pub csrf: String,
}

#[server(endpoint = "staff/api-keys")]
pub async fn staff_api_keys() -> Result<ApiKeysPage, AppError> {
    let (port, staff) = crate::staff::ssr::require().await?;
    let keys = port.api_keys(&staff).await.map_err(crate::port::app_error)?;
    Ok(ApiKeysPage { keys, csrf: staff.csrf })
}

#[server(endpoint = "staff/api-keys/add")]
pub async fn staff_add_api_key(name: String, csrf: String) -> Result<CreatedApiKey, AppError> {
    let (port, staff) = crate::staff::ssr::require_form(&csrf).await?;
    port.add_api_key(&staff, &name).await.map_err(crate::port::app_error)
}

#[server(endpoint = "staff/api-keys/revoke")]
pub async fn staff_revoke_api_key(id: String, csrf: String) -> Result<(), AppError> {
    let (port, staff) = crate::staff::ssr::require_form(&csrf).await?;
    port.revoke_api_key(&staff, &id).await.map_err(crate::port::app_error)
}

#[component]
pub fn StaffApiKeysPage() -> impl IntoView {
    let add = ServerAction::<StaffAddApiKey>::new();
    let revoke = ServerAction::<StaffRevokeApiKey>::new();
    let found =
        Resource::new(move || (add.version().get(), revoke.version().get()), |_| staff_api_keys());
    let failure = move || {
        add.value()
            .get()
            .and_then(|r| r.err())
            .or_else(|| revoke.value().get().and_then(|r| r.err()))
            .map(|e| e.to_string())
    };
    let created = move || add.value().get().and_then(|r| r.ok());
    view! {
        <Title text="API keys · Staff"/>
        <section class="staff" aria-labelledby="keys-title">
            <p><A href="/staff">"← Staff console"</A></p>
            <h1 id="keys-title">"API keys"</h1>
            <p class="line-meta">
                "A key lets one of the shop's systems report shipments and deliveries \
                 (POST /api/v1/orders/{number}/fulfilments with Authorization: Bearer gk_…). \
                 Only a hash is kept: a lost key cannot be shown again, only revoked."
            </p>
            {move || failure().map(|e| view! { <p class="form-error" role="alert">{e}</p> })}
            {move || created().map(|c| view! {
                <div class="notice api-key-created" role="status">
                    <p>"Key " <strong>{c.name}</strong> " created. Copy it now; it is not shown again:"</p>
                    <p><code class="secret">{c.key}</code></p>
                </div>
            })}
            <Transition fallback=|| view! { <p class="loading" role="status">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match found.await {
                        Ok(ApiKeysPage { keys, csrf }) => {
                            let form_csrf = csrf.clone();
                            view! {
                            <ActionForm action=add attr:class="card form" attr:aria-labelledby="add-key-title">
                                <h2 id="add-key-title">"Create a key"</h2>
                                <input type="hidden" name="csrf" value=form_csrf/>
                                <label for="key-name">"Name of the system"</label>
                                <input id="key-name" name="name" type="text" required maxlength="64" placeholder="warehouse"/>
                                <button type="submit" class="button" disabled=move || add.pending().get()>"Create key"</button>
                            </ActionForm>
                            {if keys.is_empty() {
                                view! { <p class="empty" role="status">"No API keys yet."</p> }.into_any()
                            } else {
                                view! {
                                    <table class="staff-table api-keys">
                                        <thead>
                                            <tr>
                                                <th scope="col">"Name"</th>
                                                <th scope="col">"Created"</th>
                                                <th scope="col">"State"</th>
                                                <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                                            </tr>
                                        </thead>
                                        <tbody>
                                            {keys.into_iter().map(|k| {
                                                let csrf = csrf.clone();
                                                let live = k.revoked_at.is_none();
                                                view! {
                                                    <tr class="api-key">
                                                        <td>{k.name}</td>
                                                        <td>{k.created_at.replace('T', " ")}</td>
                                                        <td>{k.revoked_at.map(|at| format!("revoked {}", at.replace('T', " "))).unwrap_or_else(|| "in use".into())}</td>
                                                        <td>{live.then(|| view! {
                                                            <ActionForm action=revoke attr:class="inline-form">
                                                                <input type="hidden" name="id" value=k.id.clone()/>
                                                                <input type="hidden" name="csrf" value=csrf.clone()/>
                                                                <button type="submit" class="link-button">"Revoke"</button>
                                                            </ActionForm>
                                                        })}</td>
                                                    </tr>
                                                }
                                            }).collect_view()}
                                        </tbody>
                                    </table>
                                }
                                .into_any()
                            }}
                            }
                            .into_any()
                        }
                        Err(error) => staff_error(error),
                    }
                })}
            </Transition>
        </section>
    }
}
