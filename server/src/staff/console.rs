//! The staff console's way in: the same sign-in rules, queries and return actions as
//! `/api/v1/staff/…`, for the console's server functions.

use gapless_api::returns::{ReturnList, ReturnView};
use std::{net::IpAddr, sync::Arc};

use app::port::{ConversationFilter, PortError, ReturnActionInput, StaffIdentity, StaffPort};
use gapless_domain::{money::Money, returns::Disposition};
use gapless_store::Store;
use tower_sessions::Session;

use super::{
    accounts::{Password, Permission, StaffRole},
    dashboard,
    error::StaffError,
    gate::{SignInError, StaffGate},
    handoffs, session,
};
use crate::{
    audit,
    fulfilment::keys_api::{self, ApiKeyView, CreatedApiKey},
    payments::PaymentError,
    returns::{
        error::ReturnsError,
        service::{ReturnsService, StaffAction},
    },
    webhooks::{WebhookError, Webhooks},
};
use app::staff::webhooks::{CreatedEndpoint, EndpointAction, EndpointDeliveries, SHOWN_DELIVERIES};

pub struct StaffConsole {
    store: Arc<dyn Store>,
    returns: Arc<ReturnsService>,
    /// The same one the JSON API signs in through: one allowance, one bound.
    gate: Arc<StaffGate>,
    /// From confirmation to delivery, as the shop promises it (the dashboard's on-time).
    delivery_promise: time::Duration,
}

impl StaffConsole {
    pub fn new(store: Arc<dyn Store>, returns: Arc<ReturnsService>, gate: Arc<StaffGate>) -> Self {
        StaffConsole { store, returns, gate, delivery_promise: dashboard::DEFAULT_DELIVERY_PROMISE }
    }

    pub fn with_delivery_promise(mut self, promise: time::Duration) -> Self {
        self.delivery_promise = promise;
        self
    }
}

/// Refuses what the staff member's role does not allow, with the same words as the API.
pub(crate) fn allow(staff: &StaffIdentity, what: Permission) -> Result<(), PortError> {
    let allowed = StaffRole::parse(&staff.role).is_some_and(|role| role.may(what));
    if allowed {
        Ok(())
    } else {
        Err(PortError::Forbidden(what.refusal().to_owned()))
    }
}

fn internal(error: impl std::error::Error + Send + Sync + 'static) -> PortError {
    PortError::Internal(Box::new(error))
}

/// What the console shows of a webhook problem: the API's words.
fn webhook_error(error: WebhookError) -> PortError {
    match error {
        WebhookError::Store(error) => internal(error),
        WebhookError::UnknownEndpoint(_) => PortError::NotFound(error.to_string()),
        other => PortError::Rejected(other.to_string()),
    }
}

#[async_trait::async_trait]
impl StaffPort for StaffConsole {
    async fn webhooks(&self, staff: &StaffIdentity) -> Result<Vec<EndpointDeliveries>, PortError> {
        allow(staff, Permission::ManageIntegrations)?;
        let webhooks = Webhooks::new(self.store.clone());
        let mut all = Vec::new();
        for endpoint in webhooks.list().await.map_err(webhook_error)? {
            let deliveries = webhooks
                .deliveries(&endpoint.id, None, SHOWN_DELIVERIES)
                .await
                .map_err(webhook_error)?;
            all.push(EndpointDeliveries { endpoint, deliveries });
        }
        Ok(all)
    }

    async fn add_webhook(
        &self,
        staff: &StaffIdentity,
        url: &str,
        events: &[String],
    ) -> Result<CreatedEndpoint, PortError> {
        allow(staff, Permission::ManageIntegrations)?;
        Webhooks::new(self.store.clone()).add(url, events).await.map_err(webhook_error)
    }

    async fn webhook_action(
        &self,
        staff: &StaffIdentity,
        endpoint: &str,
        action: EndpointAction,
    ) -> Result<(), PortError> {
        allow(staff, Permission::ManageIntegrations)?;
        let webhooks = Webhooks::new(self.store.clone());
        match action {
            EndpointAction::Pause => webhooks.set_paused(endpoint, true).await,
            EndpointAction::Resume => webhooks.set_paused(endpoint, false).await,
            EndpointAction::Remove => webhooks.remove(endpoint).await,
            EndpointAction::Test => webhooks.send_test(endpoint).await.map(drop),
        }
        .map_err(webhook_error)
    }

    async fn api_keys(&self, staff: &StaffIdentity) -> Result<Vec<ApiKeyView>, PortError> {
        allow(staff, Permission::ManageIntegrations)?;
        keys_api::all(self.store.as_ref()).await.map_err(staff_error)
    }

    async fn add_api_key(
        &self,
        staff: &StaffIdentity,
        name: &str,
    ) -> Result<CreatedApiKey, PortError> {
        allow(staff, Permission::ManageIntegrations)?;
        keys_api::create(self.store.as_ref(), name).await.map_err(staff_error)
    }

    async fn revoke_api_key(&self, staff: &StaffIdentity, id: &str) -> Result<(), PortError> {
        allow(staff, Permission::ManageIntegrations)?;
        keys_api::revoke_by_id(self.store.as_ref(), id).await.map_err(staff_error)
    }

    async fn send_again(
        &self,
        staff: &StaffIdentity,
        endpoint: &str,
        delivery: i64,
    ) -> Result<(), PortError> {
        allow(staff, Permission::ManageIntegrations)?;
        Webhooks::new(self.store.clone())
            .send_again(endpoint, delivery)
            .await
            .map_err(webhook_error)
    }

    async fn current(&self, session: &Session) -> Result<Option<StaffIdentity>, PortError> {
        let id = session::signed_in(session, self.gate.now()).await.map_err(internal)?;
        let Some(id) = id else { return Ok(None) };
        let account = self.store.staff_by_id(&id).await.map_err(internal)?;
        let Some(account) = account.filter(|a| a.disabled_at.is_none()) else {
            return Ok(None);
        };
        let csrf = session::csrf_token(session).await.map_err(internal)?;
        Ok(Some(StaffIdentity { id: account.id, email: account.email, role: account.role, csrf }))
    }

    async fn sign_in(
        &self,
        session: &Session,
        email: &str,
        password: String,
        client: Option<IpAddr>,
    ) -> Result<StaffIdentity, PortError> {
        let account =
            self.gate
                .sign_in(self.store.as_ref(), email, &Password::new(password), client)
                .await
                .map_err(|error| match error {
                    SignInError::RateLimited { retry_after }
                    | SignInError::Busy { retry_after } => PortError::RateLimited { retry_after },
                    SignInError::Failed(error) => internal(error),
                })?
                .ok_or_else(|| PortError::Rejected("The email or password is not right.".into()))?;
        let csrf = session::start(session, &account.id, self.gate.now()).await.map_err(internal)?;
        tracing::info!(staff = %account.id, "staff signed in to the console");
        Ok(StaffIdentity { id: account.id, email: account.email, role: account.role, csrf })
    }

    async fn sign_out(&self, session: &Session) -> Result<(), PortError> {
        session.flush().await.map_err(internal)
    }

    async fn conversations(
        &self,
        _staff: &StaffIdentity,
        filter: &ConversationFilter,
    ) -> Result<gapless_api::staff::ConversationPage, PortError> {
        audit::conversations(self.store.as_ref(), filter).await.map_err(staff_error)
    }

    async fn timeline(
        &self,
        _staff: &StaffIdentity,
        id: &str,
    ) -> Result<gapless_api::staff::ConversationTimeline, PortError> {
        audit::conversation_timeline(self.store.as_ref(), id).await.map_err(staff_error)
    }

    async fn returns(
        &self,
        _staff: &StaffIdentity,
        status: Option<&str>,
    ) -> Result<ReturnList, PortError> {
        self.returns.list(status).await.map_err(returns_error)
    }

    async fn dashboard(
        &self,
        staff: &StaffIdentity,
        from: Option<String>,
        to: Option<String>,
    ) -> Result<gapless_api::staff::Metrics, PortError> {
        allow(staff, Permission::ReadAudit)?;
        let now = time::OffsetDateTime::now_utc();
        let period =
            dashboard::period(&dashboard::DashboardQuery { from, to }, now).map_err(staff_error)?;
        dashboard::everything(
            self.store.as_ref(),
            period,
            now,
            self.returns.policy(),
            self.delivery_promise,
            true,
        )
        .await
        .map_err(staff_error)
    }

    async fn order(
        &self,
        staff: &StaffIdentity,
        number: &str,
    ) -> Result<gapless_api::staff::StaffOrder, PortError> {
        allow(staff, Permission::ReadAudit)?;
        audit::order_events(self.store.as_ref(), number).await.map_err(staff_error)
    }

    async fn handoffs(
        &self,
        staff: &StaffIdentity,
    ) -> Result<gapless_api::staff::HandoffQueue, PortError> {
        allow(staff, Permission::ReadAudit)?;
        handoffs::queue(self.store.as_ref()).await.map_err(staff_error)
    }

    async fn reply(
        &self,
        staff: &StaffIdentity,
        conversation: &str,
        text: &str,
        close: bool,
    ) -> Result<gapless_api::staff::StaffReply, PortError> {
        allow(staff, Permission::WorkQueues)?;
        let body = handoffs::Reply { text: text.to_owned(), close };
        handoffs::reply(self.store.as_ref(), &staff.id, conversation, &body)
            .await
            .map_err(staff_error)
    }

    async fn record_return(
        &self,
        staff: &StaffIdentity,
        rma: &str,
        input: ReturnActionInput,
    ) -> Result<ReturnView, PortError> {
        allow(staff, Permission::for_return_event(&input.kind))?;
        let amount = match input.amount.as_deref().map(str::trim).filter(|a| !a.is_empty()) {
            None => None,
            Some(typed) => {
                let catalog = self.store.catalog().await.map_err(internal)?;
                let currency = catalog.ok_or(PortError::Unavailable)?.currency;
                let amount = Money::parse_decimal(typed, &currency)
                    .map_err(|e| PortError::Rejected(e.to_string()))?;
                Some(amount.minor())
            }
        };
        let disposition = match input.disposition.as_deref() {
            None | Some("") => None,
            Some("restock") => Some(Disposition::Restock),
            Some("discard") => Some(Disposition::Discard),
            Some(other) => {
                return Err(PortError::Rejected(format!(
                    "{other:?} is not a disposition: choose restock or discard"
                )))
            }
        };
        let action = StaffAction {
            kind: input.kind,
            amount,
            override_reason: input.override_reason,
            disposition,
            note: input.note,
            ..StaffAction::default()
        };
        self.returns.record(rma, &action, &staff.id).await.map_err(returns_error)
    }
}

/// The staff services' errors as the console shows them: their own words, which are
/// written for staff.
fn staff_error(error: StaffError) -> PortError {
    match error {
        StaffError::UnknownConversation | StaffError::UnknownOrder | StaffError::UnknownApiKey => {
            PortError::NotFound(error.to_string())
        }
        StaffError::Internal(cause) => PortError::Internal(cause.into()),
        refused => PortError::Rejected(refused.to_string()),
    }
}

/// The returns service's errors as the console shows them to staff.
fn returns_error(error: ReturnsError) -> PortError {
    match error {
        ReturnsError::UnknownOrder | ReturnsError::UnknownReturn | ReturnsError::UnknownRma => {
            PortError::NotFound(error.to_string())
        }
        ReturnsError::NoCatalog | ReturnsError::Busy | ReturnsError::Refund(PaymentError::Busy) => {
            PortError::Unavailable
        }
        ReturnsError::Internal(cause) | ReturnsError::Refund(PaymentError::Internal(cause)) => {
            PortError::Internal(cause.into())
        }
        refused => PortError::Rejected(refused.to_string()),
    }
}
