//! Email: one template per notification kind (plain text and HTML, with the firm's display
//! name), sent over SMTP or written as `.eml` files to a folder (the embedded default).

use std::path::PathBuf;

use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use vestibule_domain::access_link::LinkKind;
use vestibule_domain::events::DisabledReason;
use vestibule_domain::mail::Email;

#[derive(Debug, Clone)]
pub enum MailSettings {
    Folder(PathBuf),
    /// `smtp://` or `smtps://` URL with optional credentials and `?tls=required|opportunistic`.
    Smtp(String),
}

pub enum Mailer {
    Folder(AsyncFileTransport<Tokio1Executor>),
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
}

impl Mailer {
    pub fn new(settings: &MailSettings) -> anyhow::Result<Self> {
        Ok(match settings {
            MailSettings::Folder(path) => {
                std::fs::create_dir_all(path)?;
                Self::Folder(AsyncFileTransport::new(path))
            }
            MailSettings::Smtp(url) => Self::Smtp(AsyncSmtpTransport::<Tokio1Executor>::from_url(url)?.build()),
        })
    }

    pub async fn send(&self, message: Message) -> anyhow::Result<()> {
        match self {
            Self::Folder(transport) => {
                transport.send(message).await?;
            }
            Self::Smtp(transport) => {
                transport.send(message).await?;
            }
        }
        Ok(())
    }
}

/// A rendered email.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// What templates may use besides the email. Nothing confidential: no message bodies, no
/// security codes.
#[derive(Debug, Clone)]
pub struct Context {
    pub firm_name: String,
    pub portal_url: String,
    /// The URL of the endpoint a `webhook_endpoint.disabled` email is about, unless it was
    /// deleted since.
    pub endpoint_url: Option<String>,
}

/// The template of each email.
pub fn render(email: &Email, context: &Context) -> Rendered {
    match email {
        Email::WebhookEndpointDisabled(disabled) => {
            let url = context.endpoint_url.as_deref().unwrap_or("(deleted)");
            let why = match disabled.reason {
                DisabledReason::Gone => "it answered 410 Gone, asking not to be called again",
                DisabledReason::Failing | DisabledReason::Manual => "every delivery to it failed for too long",
            };
            let subject = format!("[{}] A webhook endpoint was disabled", context.firm_name);
            let text = format!(
                "Hello,\n\nVestibule disabled the webhook endpoint {url} of {firm} because {why}. \
                 Events are no longer sent to it.\n\nCheck the receiving system, then re-enable the endpoint \
                 in Vestibule: {portal}\n\n-- {firm}\n",
                firm = context.firm_name,
                portal = context.portal_url,
            );
            let html = format!(
                "<p>Hello,</p><p>Vestibule disabled the webhook endpoint <code>{url}</code> of {firm} because {why}. \
                 Events are no longer sent to it.</p><p>Check the receiving system, then re-enable the endpoint in \
                 <a href=\"{portal}\">Vestibule</a>.</p><p>&mdash; {firm}</p>",
                url = escape(url),
                firm = escape(&context.firm_name),
                portal = escape(&context.portal_url),
            );
            Rendered { subject, text, html }
        }
        Email::PortalInvited(invitation) => {
            let link = &invitation.link;
            let subject = format!("{} invites you to its client portal", context.firm_name);
            let text = format!(
                "Hello,\n\n{firm} has opened a secure client portal for you, to share documents and \
                 messages safely.\n\nSet your password and sign in here (the link works once and expires \
                 in a few days):\n{link}\n\nIf you did not expect this, ignore this email.\n\n-- {firm}\n",
                firm = context.firm_name,
            );
            let html = format!(
                "<p>Hello,</p><p>{firm} has opened a secure client portal for you, to share documents and \
                 messages safely.</p><p><a href=\"{link}\">Set your password and sign in</a> (the link works \
                 once and expires in a few days).</p><p>If you did not expect this, ignore this email.</p>\
                 <p>&mdash; {firm}</p>",
                firm = escape(&context.firm_name),
                link = escape(link),
            );
            Rendered { subject, text, html }
        }
        Email::StaffInvited(invitation) => {
            let link = &invitation.link;
            let subject = format!("{} invites you to join its team on Vestibule", context.firm_name);
            let text = format!(
                "Hello,\n\n{firm} invites you to join its staff on Vestibule, its secure client portal.\n\n\
                 Choose your password here (the link works once and expires in a few days):\n{link}\n\n\
                 If you did not expect this, ignore this email.\n\n-- {firm}\n",
                firm = context.firm_name,
            );
            let html = format!(
                "<p>Hello,</p><p>{firm} invites you to join its staff on Vestibule, its secure client portal.</p>\
                 <p><a href=\"{link}\">Choose your password</a> (the link works once and expires in a few days).</p>\
                 <p>If you did not expect this, ignore this email.</p><p>&mdash; {firm}</p>",
                firm = escape(&context.firm_name),
                link = escape(link),
            );
            Rendered { subject, text, html }
        }
        Email::PortalActivated(welcome) => {
            let link = &welcome.link;
            let subject = format!("Welcome to the {} client portal", context.firm_name);
            let text = format!(
                "Hello,\n\nyour client portal with {firm} is ready. You will get an email whenever something \
                 new is waiting for you there; the content itself stays in the portal.\n\nSign in: {link}\n\n-- {firm}\n",
                firm = context.firm_name,
            );
            let html = format!(
                "<p>Hello,</p><p>your client portal with {firm} is ready. You will get an email whenever \
                 something new is waiting for you there; the content itself stays in the portal.</p>\
                 <p><a href=\"{link}\">Sign in</a></p><p>&mdash; {firm}</p>",
                firm = escape(&context.firm_name),
                link = escape(link),
            );
            Rendered { subject, text, html }
        }
        Email::PortalPasswordReset(reset) => {
            let link = &reset.link;
            let subject = format!("Reset your {} portal password", context.firm_name);
            let text = format!(
                "Hello,\n\nsomeone asked to reset the password of your {firm} client portal. If it was you, \
                 choose a new one here within the hour:\n{link}\n\nIf it was not you, ignore this email; \
                 your password stays as it is.\n\n-- {firm}\n",
                firm = context.firm_name,
            );
            let html = format!(
                "<p>Hello,</p><p>someone asked to reset the password of your {firm} client portal. If it was \
                 you, <a href=\"{link}\">choose a new one</a> within the hour.</p><p>If it was not you, ignore \
                 this email; your password stays as it is.</p><p>&mdash; {firm}</p>",
                firm = escape(&context.firm_name),
                link = escape(link),
            );
            Rendered { subject, text, html }
        }
        Email::NewDeviceSignIn(alert) => {
            let link = &alert.link;
            let when = alert.signed_in_at.format("%Y-%m-%d %H:%M UTC");
            let from = alert.ip.as_deref().unwrap_or("an unknown address");
            let subject = format!("New sign-in to {}", context.firm_name);
            let text = format!(
                "Hello,

your {firm} account was signed in to from a new device: {device}, from {from}, at                  {when}.

If it was you, there is nothing to do. If not, end that session and change your                  password:
{link}

-- {firm}
",
                firm = context.firm_name,
                device = alert.device,
            );
            let html = format!(
                "<p>Hello,</p><p>your {firm} account was signed in to from a new device: {device}, from {from},                  at {when}.</p><p>If it was you, there is nothing to do. If not, <a href=\"{link}\">end that                  session</a> and change your password.</p><p>&mdash; {firm}</p>",
                firm = escape(&context.firm_name),
                device = escape(&alert.device),
                from = escape(from),
                link = escape(link),
            );
            Rendered { subject, text, html }
        }
        Email::InvoiceEmailed(invoice) => {
            let (number, link) = (&invoice.number, &invoice.link);
            // Subject and message are the sender's choice; either may be left out.
            let subject =
                invoice.subject.clone().unwrap_or_else(|| format!("Invoice {number} from {}", context.firm_name));
            let message = invoice.message.as_deref().unwrap_or_default();
            let (pay_text, pay_html) = match &invoice.pay_link {
                Some(pay) => (
                    format!("\nPay it online:\n{pay}\n"),
                    format!("<p><a href=\"{}\">Pay it online</a>.</p>", escape(pay)),
                ),
                None => (String::new(), String::new()),
            };
            let text = format!(
                "{message}\n\nInvoice {number} is available in your client portal:\n{link}\n{pay_text}\n-- {firm}\n",
                firm = context.firm_name,
            );
            let html = format!(
                "<p>{message}</p><p>Invoice {number} is available in your <a href=\"{link}\">client portal</a>.</p>\
                 {pay_html}<p>&mdash; {firm}</p>",
                message = escape(message).replace('\n', "<br>"),
                number = escape(number),
                link = escape(link),
                firm = escape(&context.firm_name),
            );
            Rendered { subject, text, html }
        }
        // Seed 001: the email says a secure message is waiting, never what it says.
        Email::MessageCreated(message) => {
            let link = &message.link;
            let subject = format!("You have a new secure message from {}", context.firm_name);
            let text = format!(
                "Hello,\n\n{firm} has sent you a secure message. For your privacy it is not included in \
                 this email; read it and reply in your client portal:\n{link}\n\n-- {firm}\n",
                firm = context.firm_name,
            );
            let html = format!(
                "<p>Hello,</p><p>{firm} has sent you a secure message. For your privacy it is not included in \
                 this email; <a href=\"{link}\">read it and reply in your client portal</a>.</p><p>&mdash; {firm}</p>",
                firm = escape(&context.firm_name),
                link = escape(link),
            );
            Rendered { subject, text, html }
        }
        Email::DocumentShared(shared) => {
            let link = &shared.link;
            let what =
                if shared.count == 1 { "a new document".to_owned() } else { format!("{} new documents", shared.count) };
            let subject = format!("{} has shared documents with you", context.firm_name);
            let text = format!(
                "Hello,\n\n{firm} has shared {what} with you in your client portal:\n{link}\n\n-- {firm}\n",
                firm = context.firm_name,
            );
            let html = format!(
                "<p>Hello,</p><p>{firm} has shared {what} with you in your \
                 <a href=\"{link}\">client portal</a>.</p><p>&mdash; {firm}</p>",
                firm = escape(&context.firm_name),
                link = escape(link),
            );
            Rendered { subject, text, html }
        }
        Email::SignatureRequested(request) => {
            let link = &request.link;
            let subject = format!("{} asks you to sign a document", context.firm_name);
            let text = format!(
                "Hello,\n\n{firm} asks you to sign a document. Read it and sign or decline in your client \
                 portal:\n{link}\n\n-- {firm}\n",
                firm = context.firm_name,
            );
            let html = format!(
                "<p>Hello,</p><p>{firm} asks you to sign a document. <a href=\"{link}\">Read it and sign or \
                 decline in your client portal</a>.</p><p>&mdash; {firm}</p>",
                firm = escape(&context.firm_name),
                link = escape(link),
            );
            Rendered { subject, text, html }
        }
        Email::PaymentReceipt(receipt) => {
            let amount = format_amount(receipt.amount_minor, &receipt.currency);
            let invoices = receipt.invoices.join(", ");
            let card = receipt.card.as_deref().map(|c| format!(" with your {c}")).unwrap_or_default();
            let subject = format!("Your payment to {}", context.firm_name);
            let lead = format!("we received your payment of {amount}{card} on {}", receipt.paid_on);
            let text = format!(
                "Hello,\n\n{lead}, for invoice {invoices}. Thank you. Your receipt and account history are in \
                 your client portal:\n{link}\n\n-- {firm}\n",
                link = receipt.link,
                firm = context.firm_name,
            );
            let html = format!(
                "<p>Hello,</p><p>{lead}, for invoice {invoices}. Thank you. Your receipt and account history are \
                 in your <a href=\"{link}\">client portal</a>.</p><p>&mdash; {firm}</p>",
                lead = escape(&lead),
                invoices = escape(&invoices),
                link = escape(&receipt.link),
                firm = escape(&context.firm_name),
            );
            Rendered { subject, text, html }
        }
        // Seed 000: the subject is the sender's; the message is in the body only when the
        // sender chose delivery by email, otherwise it waits in the portal.
        Email::FileTransferSent(transfer) => {
            let link = &transfer.link;
            let subject = transfer.subject.clone();
            let message = transfer.message.as_deref();
            let lead = match message {
                Some(_) => format!("{} has sent you these files in your client portal:", context.firm_name),
                None => format!(
                    "{} has sent you a secure message with these files. For your privacy the message is not \
                     included in this email; read it in your client portal:",
                    context.firm_name
                ),
            };
            let sign = match transfer.signatures {
                0 => String::new(),
                1 => "One of them asks for your signature.".to_owned(),
                n => format!("{n} of them ask for your signature."),
            };
            let register = if transfer.registration_pending {
                "You will receive a separate email to register your portal; register first, then open the files."
            } else {
                ""
            };
            let list: String = transfer.files.iter().map(|f| format!("- {f}\n")).collect();
            let text = format!(
                "{body}{lead}\n{list}{sign}\n{register}\n{link}\n\n-- {firm}\n",
                body = message.map(|m| format!("{m}\n\n")).unwrap_or_default(),
                firm = context.firm_name,
            );
            let html_list: String = transfer.files.iter().map(|f| format!("<li>{}</li>", escape(f))).collect();
            let html = format!(
                "{body}<p>{lead}</p><ul>{html_list}</ul><p>{sign}</p><p>{register}</p>\
                 <p><a href=\"{link}\">Open your client portal</a></p><p>&mdash; {firm}</p>",
                body = message.map(|m| format!("<p>{}</p>", escape(m).replace('\n', "<br>"))).unwrap_or_default(),
                lead = escape(&lead),
                link = escape(link),
                firm = escape(&context.firm_name),
            );
            Rendered { subject, text, html }
        }
        // Seed 002's contact log: the staff member's message with the link inserted. The
        // security code is never part of it; the firm passes it on by another channel.
        Email::AccessLinkEmailed(sent) => {
            let (link, message) = (&sent.link, &sent.message);
            let subject = sent.subject.clone();
            let action = match sent.kind {
                LinkKind::Upload => "Upload your documents",
                LinkKind::Download => "Download your documents",
            };
            let until = format!(" The link works until {}.", sent.expires_at.format("%-d %B %Y, %H:%M UTC"));
            let code = format!(
                "You will need the security code that {} gives you separately; it is never sent with this email.",
                context.firm_name
            );
            let list: String = sent.files.iter().map(|f| format!("- {f}\n")).collect();
            let text = format!(
                "{message}\n\n{list}{action}:\n{link}\n{until}\n{code}\n\n-- {firm}\n",
                list = if list.is_empty() { list } else { format!("{list}\n") },
                until = until.trim_start(),
                firm = context.firm_name,
            );
            let html_list: String = sent.files.iter().map(|f| format!("<li>{}</li>", escape(f))).collect();
            let html = format!(
                "<p>{message}</p>{html_list}<p><a href=\"{link}\">{action}</a>.{until}</p><p>{code}</p><p>&mdash; {firm}</p>",
                html_list = if html_list.is_empty() { html_list } else { format!("<ul>{html_list}</ul>") },
                message = escape(message).replace('\n', "<br>"),
                link = escape(link),
                until = escape(&until),
                code = escape(&code),
                firm = escape(&context.firm_name),
            );
            Rendered { subject, text, html }
        }
        Email::AccessLinkLocked(alert) => {
            let (link, client, kind) = (&alert.link, &alert.client_name, alert.kind.as_str());
            let subject = format!("[{}] The {kind} link of {client} was locked", context.firm_name);
            let text = format!(
                "Hello,\n\nthe {kind} link of {client} was locked after too many wrong security codes. \
                 If the recipient mistyped, give them a new code: regenerating it unlocks the link.\n{link}\n\n-- {firm}\n",
                firm = context.firm_name,
            );
            let html = format!(
                "<p>Hello,</p><p>the {kind} link of {client} was locked after too many wrong security codes. \
                 If the recipient mistyped, <a href=\"{link}\">give them a new code</a>: regenerating it unlocks \
                 the link.</p><p>&mdash; {firm}</p>",
                kind = escape(kind),
                client = escape(client),
                link = escape(link),
                firm = escape(&context.firm_name),
            );
            Rendered { subject, text, html }
        }
        Email::AccessLinkUploaded(upload) => {
            let (link, client, files) = (&upload.alert.link, &upload.alert.client_name, &upload.files);
            let what = if files.len() == 1 { "A file was".to_owned() } else { format!("{} files were", files.len()) };
            let subject = format!("[{}] {what} uploaded for {client}", context.firm_name);
            let list: String = files.iter().map(|f| format!("- {f}\n")).collect();
            let text = format!(
                "Hello,\n\n{what} uploaded through the upload link of {client}:\n{list}\n{link}\n\n-- {firm}\n",
                firm = context.firm_name,
            );
            let html_list: String = files.iter().map(|f| format!("<li>{}</li>", escape(f))).collect();
            let html = format!(
                "<p>Hello,</p><p>{what} uploaded through the <a href=\"{link}\">upload link</a> of {client}:</p>\
                 <ul>{html_list}</ul><p>&mdash; {firm}</p>",
                client = escape(client),
                link = escape(link),
                firm = escape(&context.firm_name),
            );
            Rendered { subject, text, html }
        }
        Email::ConversationStarted(started) => {
            let link = &started.link;
            let subject = format!("[{}] A client started a secure conversation", context.firm_name);
            let text = format!(
                "Hello,\n\na client has started a new secure conversation in the portal. Read and answer \
                 it in Vestibule:\n{link}\n\n-- {firm}\n",
                firm = context.firm_name,
            );
            let html = format!(
                "<p>Hello,</p><p>a client has started a new secure conversation in the portal. \
                 <a href=\"{link}\">Read and answer it in Vestibule</a>.</p><p>&mdash; {firm}</p>",
                firm = escape(&context.firm_name),
                link = escape(link),
            );
            Rendered { subject, text, html }
        }
        Email::DocumentRequested(request) => {
            let what = documents(request.items);
            let by = request.due_on.map(|d| format!(" by {}", d.format("%-d %B %Y"))).unwrap_or_default();
            let subject = format!("{} asks you for {what}", context.firm_name);
            let lead = format!("{} asks you for {what}{by}.", context.firm_name);
            notice_with_link(context, subject, &lead, "See the list and upload in your client portal", &request.link)
        }
        Email::DocumentRequestReturned(request) => {
            let subject = format!("{} asks you to upload a document again", context.firm_name);
            let lead = format!("{} looked at what you uploaded and asks you for it again.", context.firm_name);
            notice_with_link(context, subject, &lead, "See why and upload again in your client portal", &request.link)
        }
        Email::DocumentRequestReminder(reminder) => {
            let what = documents(reminder.items);
            let when = match (reminder.due_on, reminder.overdue) {
                (Some(due), true) => format!(", which were due on {}", due.format("%-d %B %Y")),
                (Some(due), false) => format!(", due on {}", due.format("%-d %B %Y")),
                (None, _) => String::new(),
            };
            let subject = format!("Reminder: {} is waiting for {what}", context.firm_name);
            let lead = format!("{} is still waiting for {what}{when}.", context.firm_name);
            notice_with_link(context, subject, &lead, "Upload them in your client portal", &reminder.link)
        }
        Email::AccessLinkReminder(reminder) => {
            let until = reminder.expires_at.format("%-d %B %Y");
            let (subject, lead, action) = if reminder.nothing_uploaded {
                (
                    format!("Reminder: {} is waiting for your files", context.firm_name),
                    format!(
                        "{} is still waiting for your files. The upload link works until {until}.",
                        context.firm_name
                    ),
                    "Upload them here (with the security code you were given)",
                )
            } else {
                let what = match reminder.kind {
                    LinkKind::Download => "download link",
                    LinkKind::Upload => "upload link",
                };
                (
                    format!("Reminder: your {what} from {} expires soon", context.firm_name),
                    format!("The {what} {} sent you works until {until}.", context.firm_name),
                    "Open it here (with the security code you were given)",
                )
            };
            notice_with_link(context, subject, &lead, action, &reminder.link)
        }
        Email::DocumentQuarantined(quarantined) => {
            let subject = format!("[{}] A file for {} was quarantined", context.firm_name, quarantined.client_name);
            let lead = format!(
                "The malware scanner found {threat} in \"{document}\", uploaded for {client}. Nobody can download it; \
                 an owner or admin can see it and delete it.",
                threat = quarantined.threat,
                document = quarantined.document_name,
                client = quarantined.client_name,
            );
            notice_with_link(context, subject, &lead, "See the document", &quarantined.link)
        }
        Email::ClientUploaded(upload) => {
            let (link, client, files) = (&upload.link, &upload.client_name, &upload.files);
            let what = if files.len() == 1 { "A file was".to_owned() } else { format!("{} files were", files.len()) };
            let subject = format!("[{}] {what} uploaded for {client}", context.firm_name);
            let list: String = files.iter().map(|f| format!("- {f}\n")).collect();
            let text = format!(
                "Hello,\n\n{what} uploaded by {uploader} for {client}:\n{list}\n{link}\n\n-- {firm}\n",
                uploader = upload.uploader,
                firm = context.firm_name,
            );
            let html_list: String = files.iter().map(|f| format!("<li>{}</li>", escape(f))).collect();
            let html = format!(
                "<p>Hello,</p><p>{what} uploaded by {uploader} for <a href=\"{link}\">{client}</a>:</p>\
                 <ul>{html_list}</ul><p>&mdash; {firm}</p>",
                what = escape(&what),
                uploader = escape(&upload.uploader),
                link = escape(link),
                client = escape(client),
                firm = escape(&context.firm_name),
            );
            Rendered { subject, text, html }
        }
    }
}

fn documents(count: usize) -> String {
    if count == 1 { "1 document".to_owned() } else { format!("{count} documents") }
}

/// An email to a contact that says what waits and where, and nothing of the content.
fn notice_with_link(context: &Context, subject: String, lead: &str, action: &str, link: &str) -> Rendered {
    let text = format!("Hello,\n\n{lead} {action}:\n{link}\n\n-- {firm}\n", firm = context.firm_name);
    let html = format!(
        "<p>Hello,</p><p>{lead} <a href=\"{link}\">{action}</a>.</p><p>&mdash; {firm}</p>",
        lead = escape(lead),
        action = escape(action),
        link = escape(link),
        firm = escape(&context.firm_name),
    );
    Rendered { subject, text, html }
}

/// Who gets one email. Most emails have a single `to`; an invoice email has the lists the
/// sender typed.
#[derive(Debug, Clone, Default)]
pub struct Recipients {
    pub to: Vec<String>,
    pub cc: Vec<String>,
    pub bcc: Vec<String>,
}

impl Recipients {
    /// An invoice email's lists (the delivery's recipient is the first of `to`), or else the
    /// delivery's single recipient.
    pub fn of(recipient: &str, email: &Email) -> Self {
        let single = || Self { to: vec![recipient.to_owned()], ..Self::default() };
        match email {
            Email::InvoiceEmailed(invoice) => {
                Self { to: invoice.to.clone(), cc: invoice.cc.clone(), bcc: invoice.bcc.clone() }
            }
            Email::WebhookEndpointDisabled(_)
            | Email::PortalInvited(_)
            | Email::StaffInvited(_)
            | Email::PortalActivated(_)
            | Email::PortalPasswordReset(_)
            | Email::NewDeviceSignIn(_)
            | Email::MessageCreated(_)
            | Email::ConversationStarted(_)
            | Email::DocumentShared(_)
            | Email::SignatureRequested(_)
            | Email::FileTransferSent(_)
            | Email::AccessLinkEmailed(_)
            | Email::AccessLinkLocked(_)
            | Email::AccessLinkUploaded(_)
            | Email::PaymentReceipt(_)
            | Email::DocumentRequested(_)
            | Email::DocumentRequestReturned(_)
            | Email::DocumentRequestReminder(_)
            | Email::ClientUploaded(_)
            | Email::AccessLinkReminder(_)
            | Email::DocumentQuarantined(_) => single(),
        }
    }
}

/// The `Message-ID` of a delivery's email. Delivery is at least once: an email re-sent after
/// a crash carries the same id as the first attempt, so mail systems and readers can tell it
/// is the same email.
pub fn message_id(delivery_id: &str, public_base_url: &str) -> String {
    let parsed = url::Url::parse(public_base_url).ok();
    let host = parsed.as_ref().and_then(url::Url::host_str).unwrap_or("vestibule.invalid");
    format!("<{delivery_id}@{host}>")
}

pub fn message(
    from: &str,
    firm_name: &str,
    recipients: &Recipients,
    rendered: Rendered,
    message_id: String,
) -> anyhow::Result<Message> {
    let from: Mailbox = from.parse()?;
    // The firm's name as the sender's display name, our address as the sender.
    let mut builder =
        Message::builder().from(Mailbox::new(Some(firm_name.to_owned()), from.email)).message_id(Some(message_id));
    for to in &recipients.to {
        builder = builder.to(to.parse()?);
    }
    for cc in &recipients.cc {
        builder = builder.cc(cc.parse()?);
    }
    for bcc in &recipients.bcc {
        builder = builder.bcc(bcc.parse()?);
    }
    Ok(builder.subject(rendered.subject).multipart(MultiPart::alternative_plain_html(rendered.text, rendered.html))?)
}

/// `12050` in `EUR` reads `EUR 120.50`: two decimals, which is what nearly every currency
/// uses; receipts in the others still show the right number of minor units.
fn format_amount(minor: i64, currency: &str) -> String {
    format!("{currency} {}.{:02}", minor / 100, (minor % 100).abs())
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use vestibule_domain::mail::{Invoice, LinkEmail, Welcome};

    use super::*;

    #[tokio::test]
    async fn every_attempt_of_a_delivery_carries_the_same_message_id() {
        let folder = std::env::temp_dir().join(format!("vestibule-mail-{}", uuid_like()));
        let mailer = Mailer::new(&MailSettings::Folder(folder.clone())).unwrap();
        let email = invoice(None);
        let recipients = Recipients::of("a@x.test", &email);
        for _ in 0..2 {
            let rendered = render(&email, &context());
            let id = message_id("dlv_01J9ZQ", "https://portal.harbor.test:8443/app");
            mailer.send(message("no-reply@v.test", "Harbor LLP", &recipients, rendered, id).unwrap()).await.unwrap();
        }
        let ids: Vec<String> = std::fs::read_dir(&folder)
            .unwrap()
            .map(|entry| {
                let eml = std::fs::read_to_string(entry.unwrap().path()).unwrap();
                eml.lines().find(|l| l.starts_with("Message-ID: ")).unwrap().to_owned()
            })
            .collect();
        std::fs::remove_dir_all(&folder).unwrap();
        assert_eq!(ids, vec!["Message-ID: <dlv_01J9ZQ@portal.harbor.test>"; 2]);
    }

    fn uuid_like() -> u128 {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos()
    }

    fn context() -> Context {
        Context { firm_name: "Harbor LLP".into(), portal_url: "https://v.test".into(), endpoint_url: None }
    }

    fn invoice(subject: Option<&str>) -> Email {
        Email::InvoiceEmailed(Invoice {
            to: vec!["a@x.test".into(), "b@x.test".into()],
            cc: vec!["c@x.test".into()],
            bcc: vec!["d@x.test".into()],
            subject: subject.map(str::to_owned),
            message: None,
            number: "2024-7".into(),
            link: "https://v.test/portal/invoices/inv_1".into(),
            pay_link: Some("https://v.test/portal/invoices/inv_1/pay".into()),
        })
    }

    #[test]
    fn an_invoice_goes_to_the_typed_lists_and_others_to_their_recipient() {
        let lists = Recipients::of("a@x.test", &invoice(None));
        assert_eq!((lists.to.len(), lists.cc, lists.bcc), (2, vec!["c@x.test".into()], vec!["d@x.test".into()]));
        let single = Recipients::of("e@x.test", &Email::PortalActivated(Welcome { link: "L".into() }));
        assert_eq!((single.to, single.cc.len(), single.bcc.len()), (vec!["e@x.test".to_owned()], 0, 0));
    }

    #[test]
    fn an_invoice_without_a_subject_is_named_by_its_number() {
        assert_eq!(render(&invoice(None), &context()).subject, "Invoice 2024-7 from Harbor LLP");
        assert_eq!(render(&invoice(Some("Your bill")), &context()).subject, "Your bill");
        assert!(
            render(&invoice(None), &context())
                .text
                .contains("Pay it online:\nhttps://v.test/portal/invoices/inv_1/pay")
        );
    }

    #[test]
    fn a_receipt_names_the_amount_the_card_and_the_invoices() {
        let email = Email::PaymentReceipt(vestibule_domain::mail::Receipt {
            amount_minor: 12_005,
            currency: "EUR".into(),
            paid_on: chrono::NaiveDate::from_ymd_opt(2026, 12, 3).unwrap(),
            invoices: vec!["2026-1".into(), "2026-2".into()],
            card: Some("visa ending 4242".into()),
            link: "https://v.test/portal/payments/pay_1".into(),
        });
        let text = render(&email, &context()).text;
        assert!(
            text.contains("EUR 120.05 with your visa ending 4242 on 2026-12-03, for invoice 2026-1, 2026-2"),
            "{text}"
        );
    }

    #[test]
    fn a_link_email_says_until_when_the_link_works_but_never_its_code() {
        let email = Email::AccessLinkEmailed(LinkEmail {
            subject: "Documents".into(),
            message: "Here they are.".into(),
            link: "https://v.test/l/abc".into(),
            kind: LinkKind::Download,
            expires_at: "2030-01-02T03:04:05Z".parse().unwrap(),
            files: vec![],
        });
        let rendered = render(&email, &context());
        assert!(rendered.text.contains(
            "Download your documents:\nhttps://v.test/l/abc\nThe link works until 2 January 2030, 03:04 UTC.\n"
        ));
        assert!(rendered.text.contains("security code that Harbor LLP gives you separately"));
    }
}
