//! The dispatcher loop: claim due deliveries, send them concurrently, record each attempt.

use std::collections::HashSet;
use std::time::Duration;

use anyhow::Context as _;
use chrono::NaiveDateTime;
use rand::Rng;
use vestibule_domain::events::{DisabledReason, EventType};
use vestibule_domain::mail::{Email, EndpointDisabled};
use vestibule_storage::deliveries::{self, Outcome, Work};
use vestibule_storage::sealing::SecretKeys;
use vestibule_storage::wake::Wakeup;
use vestibule_storage::webhooks::{self, EndpointChanges};
use vestibule_storage::{DbConnection, DbPool, StorageError, audit, firms, outbox, staff, write_tx};

use crate::email::{self, Context, MailSettings, Mailer};
use crate::resolver::PublicOnly;
use crate::webhook::{self, Verdict};

#[derive(Debug, Clone)]
pub struct DispatchSettings {
    /// Waits between attempts; one attempt more than entries is made in all.
    pub retry_schedule: Vec<Duration>,
    pub poll_interval: Duration,
    pub batch_size: i64,
    /// How long a claim holds before another worker may take the delivery over.
    pub lease: Duration,
    pub webhook_timeout: Duration,
    /// An endpoint failing for this long is disabled and the firm's admins are told.
    pub disable_after: Duration,
    pub allowed_hosts: Vec<String>,
    pub public_base_url: String,
    pub mail: MailSettings,
    pub mail_from: String,
    /// Opens the endpoints' signing secrets, which are stored sealed.
    pub secret_keys: std::sync::Arc<SecretKeys>,
}

impl DispatchSettings {
    /// The Standard Webhooks schedule: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h.
    pub fn standard_schedule() -> Vec<Duration> {
        [5, 300, 1800, 7200, 18000, 36000, 36000].into_iter().map(Duration::from_secs).collect()
    }
}

pub struct Dispatcher {
    pool: DbPool,
    wakeup: Wakeup,
    http: reqwest::Client,
    resolver: PublicOnly,
    mailer: Mailer,
    settings: DispatchSettings,
}

impl Dispatcher {
    pub fn new(pool: DbPool, settings: DispatchSettings) -> anyhow::Result<Self> {
        let resolver = PublicOnly {
            allowed_hosts: settings.allowed_hosts.iter().map(|h| h.to_ascii_lowercase()).collect::<HashSet<_>>(),
        };
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(settings.webhook_timeout)
            .user_agent(concat!("Vestibule-Webhooks/", env!("CARGO_PKG_VERSION")))
            .dns_resolver(std::sync::Arc::new(resolver.clone()))
            // A proxy from the environment would resolve the target itself, past our checks.
            .no_proxy()
            .build()?;
        let mailer = Mailer::new(&settings.mail)?;
        Ok(Self { pool, wakeup: Wakeup::polling(), http, resolver, mailer, settings })
    }

    /// Runs as soon as `wakeup` says deliveries were queued, not only every poll interval.
    #[must_use]
    pub fn woken_by(mut self, wakeup: Wakeup) -> Self {
        self.wakeup = wakeup;
        self
    }

    /// Works until `shutdown` turns true. A batch is claimed and sent as one step, so the
    /// batch in progress is finished first and nothing stays claimed.
    pub async fn run(self, mut shutdown: tokio::sync::watch::Receiver<bool>) {
        tracing::info!("dispatcher started");
        while !*shutdown.borrow() {
            match self.run_once().await {
                Ok(0) => {
                    tokio::select! {
                        () = self.wakeup.wait(self.settings.poll_interval) => {}
                        // A dropped sender means the owner is gone: stop as on a signal.
                        changed = shutdown.changed() => if changed.is_err() { break },
                    }
                }
                Ok(_) => {}
                Err(error) => {
                    tracing::warn!(error = %format!("{error:#}"), "dispatch batch failed");
                    tokio::time::sleep(self.settings.poll_interval).await;
                }
            }
        }
        tracing::info!("dispatcher stopped");
    }

    /// Claims one batch and delivers it; returns how many deliveries it handled.
    pub async fn run_once(&self) -> anyhow::Result<usize> {
        let lease = chrono::Duration::from_std(self.settings.lease)?;
        let batch = self.settings.batch_size;
        let work = self
            .blocking(move |conn| {
                let now = vestibule_storage::now();
                let ids = deliveries::claim(conn, now, now + lease, batch)?;
                Ok(deliveries::load_work(conn, &ids)?)
            })
            .await?;
        let count = work.len();
        let results = futures_util::future::join_all(work.into_iter().map(|w| self.deliver(w))).await;
        for result in results {
            if let Err(error) = result {
                tracing::warn!(error = %format!("{error:#}"), "recording a delivery failed");
            }
        }
        Ok(count)
    }

    async fn deliver(&self, work: Work) -> anyhow::Result<()> {
        let attempted_at = vestibule_storage::now();
        let (verdict, status_code, latency, error) = match (work.delivery.channel.as_str(), &work.endpoint) {
            (outbox::WEBHOOK, Some(endpoint)) if endpoint.disabled_at.is_some() => {
                (Verdict::Gone, None, Duration::ZERO, Some("the endpoint is disabled".to_owned()))
            }
            (outbox::WEBHOOK, Some(endpoint)) => {
                let sent =
                    webhook::send(&self.http, &self.resolver, &self.settings.secret_keys, endpoint, &work.event).await;
                (sent.verdict, sent.status_code, sent.latency, sent.error)
            }
            (outbox::EMAIL, _) => match email_of(&work) {
                Ok(email) => {
                    let started = std::time::Instant::now();
                    let sent = self.send_email(&work, &email).await;
                    let error = sent.err().map(|e| format!("{e:#}"));
                    let verdict =
                        if error.is_none() { Verdict::Delivered } else { Verdict::Retry { not_before: None } };
                    (verdict, None, started.elapsed(), error)
                }
                // Reading it again will not help: give up at once, and say so where someone looks.
                Err(error) => {
                    let error = format!("{error:#}");
                    tracing::error!(delivery = %work.delivery.id, error = %error, "an email delivery cannot be read");
                    (Verdict::Gone, None, Duration::ZERO, Some(error))
                }
            },
            _ => (Verdict::Gone, None, Duration::ZERO, Some("the endpoint no longer exists".to_owned())),
        };
        let attempt = deliveries::new_attempt(
            &work.delivery.id,
            attempted_at,
            status_code.map(i32::from),
            i64::try_from(latency.as_millis()).unwrap_or(i64::MAX),
            error,
        );
        let schedule = self.settings.retry_schedule.clone();
        let disable_after = chrono::Duration::from_std(self.settings.disable_after)?;
        self.blocking(move |conn| {
            write_tx(conn, |conn| {
                let attempt_number = usize::try_from(work.delivery.attempts).unwrap_or(0) + 1;
                let outcome = match &verdict {
                    Verdict::Delivered => Outcome::Delivered,
                    Verdict::Gone => Outcome::Dead,
                    Verdict::Retry { not_before } => match schedule.get(attempt_number - 1) {
                        Some(wait) => Outcome::RetryAt(attempted_at + backoff(*wait, *not_before)),
                        None => Outcome::Dead,
                    },
                };
                deliveries::finish(conn, &attempt, &outcome)?;
                if let Some(endpoint) = &work.endpoint {
                    track_endpoint(conn, endpoint, &verdict, attempted_at, disable_after)?;
                }
                Ok(())
            })
        })
        .await
    }

    async fn send_email(&self, work: &Work, email: &Email) -> anyhow::Result<()> {
        let recipient = work.delivery.recipient.clone().context("an email delivery without a recipient")?;
        let firm_id = work.event.firm_id.clone();
        let endpoint_id = match email {
            Email::WebhookEndpointDisabled(disabled) => Some(disabled.endpoint_id.clone()),
            _ => None,
        };
        let (firm, endpoint_url) = self
            .blocking(move |conn| {
                let firm = firms::get(conn, &firm_id)?;
                let endpoint = match endpoint_id.map(|id| webhooks::get(conn, &firm_id, &id)) {
                    Some(Ok(endpoint)) => Some(endpoint.url),
                    // Deleted since it was disabled: the email says so.
                    Some(Err(StorageError::NotFound)) | None => None,
                    Some(Err(error)) => return Err(error.into()),
                };
                Ok((firm, endpoint))
            })
            .await?;
        let context = Context {
            firm_name: firm.email_display_name.clone(),
            portal_url: self.settings.public_base_url.clone(),
            endpoint_url,
        };
        let rendered = email::render(email, &context);
        let recipients = email::Recipients::of(&recipient, email);
        let id = email::message_id(&work.delivery.id, &self.settings.public_base_url);
        let message = email::message(&self.settings.mail_from, &firm.email_display_name, &recipients, rendered, id)?;
        self.mailer.send(message).await
    }

    async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut DbConnection) -> anyhow::Result<T> + Send + 'static,
    ) -> anyhow::Result<T> {
        let pool = self.pool.clone();
        tokio::task::spawn_blocking(move || work(&mut *pool.get()?)).await?
    }
}

/// The email a delivery holds: its event's type says which, its content (and for some, the
/// event's data) what it says.
fn email_of(work: &Work) -> anyhow::Result<Email> {
    let event_type = EventType::from_stored(&work.event.event_type)
        .with_context(|| format!("unknown event type `{}`", work.event.event_type))?;
    Ok(Email::parse(event_type, work.delivery.content.as_deref(), &work.event.data)?)
}

/// The scheduled wait with ±10 % jitter, so that retries of many deliveries spread out; never
/// sooner than the receiver's `Retry-After`.
fn backoff(scheduled: Duration, not_before: Option<Duration>) -> chrono::Duration {
    let jitter = rand::thread_rng().gen_range(0.9..=1.1);
    let wait = scheduled.mul_f64(jitter).max(not_before.unwrap_or_default()).min(Duration::from_secs(24 * 3600));
    chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::hours(1))
}

/// Keeps an endpoint's health: a success clears `failing_since`; 410, or failing longer than
/// `disable_after`, disables it, drops what is still queued for it, and tells the firm (a
/// `webhook_endpoint.disabled` event to its other endpoints, and an email to its admins).
fn track_endpoint(
    conn: &mut DbConnection,
    endpoint: &vestibule_storage::webhooks::EndpointRow,
    verdict: &Verdict,
    now: NaiveDateTime,
    disable_after: chrono::Duration,
) -> anyhow::Result<()> {
    let current = webhooks::get(conn, &endpoint.firm_id, &endpoint.id)?;
    if current.disabled_at.is_some() {
        return Ok(());
    }
    let change = |failing_since: Option<Option<NaiveDateTime>>, disabled: Option<&str>| EndpointChanges {
        url: None,
        description: None,
        event_types: None,
        disabled_at: disabled.map(|_| Some(now)),
        disabled_reason: disabled.map(|reason| Some(reason.to_owned())),
        failing_since,
        updated_at: now,
    };
    let disable_reason = match verdict {
        Verdict::Delivered => {
            if current.failing_since.is_some() {
                webhooks::update(conn, &endpoint.firm_id, &endpoint.id, &change(Some(None), None))?;
            }
            return Ok(());
        }
        Verdict::Gone => DisabledReason::Gone,
        Verdict::Retry { .. } => match current.failing_since {
            None => {
                webhooks::update(conn, &endpoint.firm_id, &endpoint.id, &change(Some(Some(now)), None))?;
                return Ok(());
            }
            Some(since) if now - since < disable_after => return Ok(()),
            Some(_) => DisabledReason::Failing,
        },
    };
    webhooks::update(conn, &endpoint.firm_id, &endpoint.id, &change(None, Some(disable_reason.as_str())))?;
    deliveries::drop_pending_for_endpoint(conn, &endpoint.id, "the endpoint was disabled")?;
    audit::append(
        conn,
        &audit::NewAuditEvent {
            firm_id: endpoint.firm_id.clone(),
            actor_kind: "system".to_owned(),
            action: "webhook_endpoint.disabled".to_owned(),
            target_kind: Some("webhook_endpoint".to_owned()),
            target_id: Some(endpoint.id.clone()),
            outcome: "success".to_owned(),
            details: serde_json::json!({ "reason": disable_reason.as_str() }).to_string(),
            ..Default::default()
        },
    )?;
    let disabled = EndpointDisabled { endpoint_id: endpoint.id.clone(), reason: disable_reason };
    let data = serde_json::to_value(&disabled)?;
    let event = outbox::publish(conn, &endpoint.firm_id, EventType::WebhookEndpointDisabled, &data)?;
    let email = Email::WebhookEndpointDisabled(disabled);
    for admin in staff::admin_emails(conn, &endpoint.firm_id)? {
        outbox::queue_email(conn, &event, &admin, &email)?;
    }
    tracing::warn!(endpoint = %endpoint.id, reason = disable_reason.as_str(), "disabled a webhook endpoint");
    Ok(())
}
