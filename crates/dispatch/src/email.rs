//! Email: one template per notification kind (plain text and HTML, with the firm's display
//! name), sent over SMTP or written as `.eml` files to a folder (the embedded default).

use std::path::PathBuf;

use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

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

/// What templates may use. Nothing confidential: no message bodies, no security codes.
#[derive(Debug, Clone)]
pub struct Context {
    pub firm_name: String,
    pub portal_url: String,
    pub event_data: serde_json::Value,
    pub endpoint_url: Option<String>,
    /// What only this email carries (a one-time link), from the delivery.
    pub content: serde_json::Value,
}

/// The template of an event type, if that type is ever emailed.
pub fn render(event_type: &str, context: &Context) -> Option<Rendered> {
    match event_type {
        "webhook_endpoint.disabled" => {
            let url = context.endpoint_url.as_deref().unwrap_or("(deleted)");
            let why = match context.event_data["reason"].as_str() {
                Some("gone") => "it answered 410 Gone, asking not to be called again",
                _ => "every delivery to it failed for too long",
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
            Some(Rendered { subject, text, html })
        }
        "portal.invited" => {
            let link = context.content["link"].as_str()?;
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
            Some(Rendered { subject, text, html })
        }
        "portal.activated" => {
            let link = context.content["link"].as_str().unwrap_or(&context.portal_url);
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
            Some(Rendered { subject, text, html })
        }
        "portal.password_reset" => {
            let link = context.content["link"].as_str()?;
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
            Some(Rendered { subject, text, html })
        }
        "invoice.emailed" => {
            let number = context.content["number"].as_str().unwrap_or_default();
            let link = context.content["link"].as_str().unwrap_or(&context.portal_url);
            let subject = context.content["subject"]
                .as_str()
                .map_or_else(|| format!("Invoice {number} from {}", context.firm_name), str::to_owned);
            let message = context.content["message"].as_str().unwrap_or_default();
            let text = format!(
                "{message}\n\nInvoice {number} is available in your client portal:\n{link}\n\n-- {firm}\n",
                firm = context.firm_name,
            );
            let html = format!(
                "<p>{message}</p><p>Invoice {number} is available in your <a href=\"{link}\">client portal</a>.</p>\
                 <p>&mdash; {firm}</p>",
                message = escape(message).replace('\n', "<br>"),
                number = escape(number),
                link = escape(link),
                firm = escape(&context.firm_name),
            );
            Some(Rendered { subject, text, html })
        }
        // Seed 001: the email says a secure message is waiting, never what it says.
        "message.created" => {
            let link = context.content["link"].as_str().unwrap_or(&context.portal_url);
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
            Some(Rendered { subject, text, html })
        }
        "document.shared" => {
            let link = context.content["link"].as_str().unwrap_or(&context.portal_url);
            let count = context.content["count"].as_u64().unwrap_or(1);
            let what = if count == 1 { "a new document".to_owned() } else { format!("{count} new documents") };
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
            Some(Rendered { subject, text, html })
        }
        "signature.requested" => {
            let link = context.content["link"].as_str().unwrap_or(&context.portal_url);
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
            Some(Rendered { subject, text, html })
        }
        // Seed 000: the subject is the sender's; the message is in the body only when the
        // sender chose delivery by email, otherwise it waits in the portal.
        "file_transfer.sent" => {
            let link = context.content["link"].as_str().unwrap_or(&context.portal_url);
            let subject = context.content["subject"].as_str().unwrap_or("Files for you").to_owned();
            let files: Vec<&str> = context.content["files"]
                .as_array()
                .map(|a| a.iter().filter_map(|f| f.as_str()).collect())
                .unwrap_or_default();
            let signatures = context.content["signatures"].as_u64().unwrap_or(0);
            let message = context.content["message"].as_str();
            let lead = match message {
                Some(_) => format!("{} has sent you these files in your client portal:", context.firm_name),
                None => format!(
                    "{} has sent you a secure message with these files. For your privacy the message is not \
                     included in this email; read it in your client portal:",
                    context.firm_name
                ),
            };
            let sign = match signatures {
                0 => String::new(),
                1 => "One of them asks for your signature.".to_owned(),
                n => format!("{n} of them ask for your signature."),
            };
            let register = if context.content["registration_pending"].as_bool().unwrap_or(false) {
                "You will receive a separate email to register your portal; register first, then open the files."
            } else {
                ""
            };
            let list: String = files.iter().map(|f| format!("- {f}\n")).collect();
            let text = format!(
                "{body}{lead}\n{list}{sign}\n{register}\n{link}\n\n-- {firm}\n",
                body = message.map(|m| format!("{m}\n\n")).unwrap_or_default(),
                firm = context.firm_name,
            );
            let html_list: String = files.iter().map(|f| format!("<li>{}</li>", escape(f))).collect();
            let html = format!(
                "{body}<p>{lead}</p><ul>{html_list}</ul><p>{sign}</p><p>{register}</p>\
                 <p><a href=\"{link}\">Open your client portal</a></p><p>&mdash; {firm}</p>",
                body = message.map(|m| format!("<p>{}</p>", escape(m).replace('\n', "<br>"))).unwrap_or_default(),
                lead = escape(&lead),
                link = escape(link),
                firm = escape(&context.firm_name),
            );
            Some(Rendered { subject, text, html })
        }
        // Seed 002's contact log: the staff member's message with the link inserted. The
        // security code is never part of it; the firm passes it on by another channel.
        "access_link.emailed" => {
            let link = context.content["link"].as_str().unwrap_or(&context.portal_url);
            let subject = context.content["subject"].as_str().unwrap_or("Documents for you").to_owned();
            let message = context.content["message"].as_str().unwrap_or_default();
            let upload = context.content["kind"].as_str() == Some("upload");
            let action = if upload { "Upload your documents" } else { "Download your documents" };
            let until = context.content["expires_at"]
                .as_str()
                .and_then(|at| chrono::DateTime::parse_from_rfc3339(at).ok())
                .map(|at| format!(" The link works until {}.", at.format("%-d %B %Y, %H:%M UTC")))
                .unwrap_or_default();
            let code = format!(
                "You will need the security code that {} gives you separately; it is never sent with this email.",
                context.firm_name
            );
            let files: Vec<&str> = context.content["files"]
                .as_array()
                .map(|a| a.iter().filter_map(|f| f.as_str()).collect())
                .unwrap_or_default();
            let list: String = files.iter().map(|f| format!("- {f}\n")).collect();
            let text = format!(
                "{message}\n\n{list}{action}:\n{link}\n{until}\n{code}\n\n-- {firm}\n",
                list = if list.is_empty() { list } else { format!("{list}\n") },
                until = until.trim_start(),
                firm = context.firm_name,
            );
            let html_list: String = files.iter().map(|f| format!("<li>{}</li>", escape(f))).collect();
            let html = format!(
                "<p>{message}</p>{html_list}<p><a href=\"{link}\">{action}</a>.{until}</p><p>{code}</p><p>&mdash; {firm}</p>",
                html_list = if html_list.is_empty() { html_list } else { format!("<ul>{html_list}</ul>") },
                message = escape(message).replace('\n', "<br>"),
                link = escape(link),
                until = escape(&until),
                code = escape(&code),
                firm = escape(&context.firm_name),
            );
            Some(Rendered { subject, text, html })
        }
        "access_link.locked" => {
            let link = context.content["link"].as_str().unwrap_or(&context.portal_url);
            let client = context.content["client_name"].as_str().unwrap_or("a client");
            let kind = context.content["kind"].as_str().unwrap_or("access");
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
            Some(Rendered { subject, text, html })
        }
        "access_link.uploaded" => {
            let link = context.content["link"].as_str().unwrap_or(&context.portal_url);
            let client = context.content["client_name"].as_str().unwrap_or("a client");
            let files: Vec<&str> = context.content["files"]
                .as_array()
                .map(|a| a.iter().filter_map(|f| f.as_str()).collect())
                .unwrap_or_default();
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
            Some(Rendered { subject, text, html })
        }
        "conversation.started" => {
            let link = context.content["link"].as_str().unwrap_or(&context.portal_url);
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
            Some(Rendered { subject, text, html })
        }
        _ => None,
    }
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
    /// The lists stored with the delivery, or else its single recipient.
    pub fn of(recipient: &str, content: &serde_json::Value) -> Self {
        let list = |key: &str| -> Vec<String> {
            content[key]
                .as_array()
                .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect())
                .unwrap_or_default()
        };
        let to = list("to");
        Self { to: if to.is_empty() { vec![recipient.to_owned()] } else { to }, cc: list("cc"), bcc: list("bcc") }
    }
}

pub fn message(from: &str, firm_name: &str, recipients: &Recipients, rendered: Rendered) -> anyhow::Result<Message> {
    let from: Mailbox = from.parse()?;
    // The firm's name as the sender's display name, our address as the sender.
    let mut builder = Message::builder().from(Mailbox::new(Some(firm_name.to_owned()), from.email));
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

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}
