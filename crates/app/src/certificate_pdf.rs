//! The certificate of completion as a PDF: plain text in the standard Helvetica font (no
//! embedded font), with uncompressed content streams so a hash stays findable in the file,
//! and nothing time- or machine-dependent beyond the certificate itself, so the same
//! certificate always gives the same bytes.

use pdf_writer::{Content, Name, Pdf, Rect, Ref, Str, TextStr};
use vestibule_domain::signature::SignatureStatus;
use vestibule_domain::signature_certificate::Certificate;

const PAGE_WIDTH: f32 = 595.0;
const PAGE_HEIGHT: f32 = 842.0;
const MARGIN: f32 = 50.0;
const FONT_SIZE: f32 = 10.0;
const LEADING: f32 = 14.0;
/// Characters per line at this size; a SHA-256 line must fit on one.
const LINE_CHARS: usize = 92;

pub fn render(certificate: &Certificate) -> Vec<u8> {
    let lines: Vec<String> = text_of(certificate).iter().flat_map(|line| wrap(line)).collect();
    let per_page = ((PAGE_HEIGHT - 2.0 * MARGIN) / LEADING) as usize;
    let pages: Vec<&[String]> = lines.chunks(per_page.max(1)).collect();

    let catalog = Ref::new(1);
    let tree = Ref::new(2);
    let font = Ref::new(3);
    let info = Ref::new(4);
    let font_name = Name(b"F1");
    let page_ref = |index: usize, offset: i32| Ref::new(5 + 2 * i32::try_from(index).unwrap_or(0) + offset);

    let mut pdf = Pdf::new();
    pdf.catalog(catalog).pages(tree);
    pdf.pages(tree).kids((0..pages.len()).map(|i| page_ref(i, 0))).count(i32::try_from(pages.len()).unwrap_or(0));
    pdf.type1_font(font).base_font(Name(b"Helvetica")).encoding_predefined(Name(b"WinAnsiEncoding"));
    pdf.document_info(info)
        .title(TextStr("Certificate of completion"))
        .subject(TextStr(&format!("Signature request {}", certificate.signature_request_id)))
        .producer(TextStr("Vestibule"));
    for (index, page_lines) in pages.iter().enumerate() {
        let mut page = pdf.page(page_ref(index, 0));
        page.media_box(Rect::new(0.0, 0.0, PAGE_WIDTH, PAGE_HEIGHT));
        page.parent(tree);
        page.contents(page_ref(index, 1));
        page.resources().fonts().pair(font_name, font);
        drop(page);
        let mut content = Content::new();
        content.begin_text();
        content.set_font(font_name, FONT_SIZE);
        content.set_leading(LEADING);
        content.next_line(MARGIN, PAGE_HEIGHT - MARGIN);
        for line in page_lines.iter() {
            content.show(Str(&win_ansi(line)));
            content.next_line(0.0, -LEADING);
        }
        content.end_text();
        pdf.stream(page_ref(index, 1), &content.finish());
    }
    pdf.finish()
}

fn text_of(c: &Certificate) -> Vec<String> {
    let or_none = |value: &Option<String>| value.clone().unwrap_or_else(|| "-".to_owned());
    let outcome = match c.status {
        SignatureStatus::Declined => "DECLINED",
        _ => "SIGNED",
    };
    let mut lines = vec![
        "CERTIFICATE OF COMPLETION".to_owned(),
        format!("Electronic signature request {}: {outcome}", c.signature_request_id),
        String::new(),
        format!("Firm: {} ({})", c.firm.name, c.firm.id),
        String::new(),
        "DOCUMENT".to_owned(),
        format!("Name: {}", c.document.name),
        format!("Id: {}", c.document.id),
        format!("Size: {} bytes", c.document.size_bytes),
        format!("SHA-256: {}", c.document.sha256),
        String::new(),
        "SIGNER".to_owned(),
        format!("Name: {}", c.signer.name),
        format!("Email: {}", or_none(&c.signer.email)),
        format!("Contact id: {}", c.signer.contact_id),
        format!("Typed signature: {}", or_none(&c.typed_signature)),
        format!("Consent shown and accepted: {}", or_none(&c.consent_text)),
    ];
    if c.status == SignatureStatus::Declined {
        lines.push(format!("Reason for declining: {}", or_none(&c.decline_reason)));
    }
    lines.extend([
        format!("Answered at: {}", c.answered_at.to_rfc3339()),
        format!("IP address: {}", or_none(&c.ip)),
        format!("User agent: {}", or_none(&c.user_agent)),
        String::new(),
        "REQUEST".to_owned(),
        format!("Requested by: {}", c.requested_by),
        format!("Requested at: {}", c.requested_at.to_rfc3339()),
        String::new(),
        "HISTORY (audit events of the firm's hash-chained log)".to_owned(),
    ]);
    for step in &c.history {
        lines.push(format!(
            "{} {} - audit event {} (seq {}) by {} {} from {} / {}",
            step.at.to_rfc3339(),
            step.step.as_str(),
            step.audit_event_id,
            step.audit_seq,
            step.actor_kind,
            or_none(&step.actor_id),
            or_none(&step.ip),
            or_none(&step.user_agent),
        ));
    }
    lines.extend([
        String::new(),
        format!("Issued at: {}", c.issued_at.to_rfc3339()),
        format!("Certificate version: {}", c.certificate_version),
        "The SHA-256 of this file is recorded in the firm's audit chain;".to_owned(),
        "check it with `vestibule admin verify-certificate FILE`.".to_owned(),
    ]);
    lines
}

/// Splits a line into lines of at most `LINE_CHARS` characters, at spaces where it can.
fn wrap(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    for word in line.split(' ') {
        let mut word = word.to_owned();
        while word.chars().count() > LINE_CHARS {
            if !current.is_empty() {
                out.push(std::mem::take(&mut current));
            }
            let rest: String = word.chars().skip(LINE_CHARS).collect();
            out.push(word.chars().take(LINE_CHARS).collect());
            word = rest;
        }
        let needed = current.chars().count() + usize::from(!current.is_empty()) + word.chars().count();
        if needed > LINE_CHARS {
            out.push(std::mem::take(&mut current));
        }
        if !current.is_empty() {
            current.push(' ');
        }
        current.push_str(&word);
    }
    out.push(current);
    out
}

/// The line in the font's WinAnsi encoding: Latin-1 as is, anything else as `?`.
fn win_ansi(line: &str) -> Vec<u8> {
    line.chars()
        .map(|c| match u32::from(c) {
            code @ (0x20..=0x7e | 0xa0..=0xff) => u8::try_from(code).unwrap_or(b'?'),
            _ => b'?',
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_lines_wrap_and_short_ones_stay() {
        assert_eq!(wrap("short line"), vec!["short line"]);
        let long = "x".repeat(LINE_CHARS + 5);
        assert_eq!(wrap(&long).len(), 2);
        assert!(wrap(&"word ".repeat(40)).iter().all(|l| l.chars().count() <= LINE_CHARS));
    }

    #[test]
    fn text_outside_latin1_becomes_question_marks() {
        assert_eq!(win_ansi("Müller €"), vec![b'M', 0xfc, b'l', b'l', b'e', b'r', b' ', b'?']);
    }
}
