//! Stripe's webhook signature: `Stripe-Signature: t=<unix seconds>,v1=<hex>[,v1=…][,v0=…]`,
//! where each `v1` is HMAC-SHA256 over `<t>.<raw body>` keyed with the endpoint's secret
//! (several while a rolled secret's old one still signs).

use hmac::{Hmac, Mac};
use sha2::Sha256;
use vestibule_app::payments::processor::WebhookError;

/// Stripe's libraries' default: how far the signed time may be from ours, either way.
pub const TOLERANCE_SECONDS: u64 = 300;

pub fn verify(secret: &[u8], payload: &[u8], header: Option<&str>, now: i64) -> Result<(), WebhookError> {
    let header = header.ok_or(WebhookError::BadSignature)?;
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        let (key, value) = part.trim().split_once('=').ok_or(WebhookError::BadSignature)?;
        match key {
            "t" if timestamp.is_none() => timestamp = Some(value),
            "t" => return Err(WebhookError::BadSignature),
            // A value that is not hex cannot match; the others still may.
            "v1" => signatures.extend(hex::decode(value).ok()),
            // v0 (test-mode's former scheme) and whatever Stripe adds are not signatures we check.
            _ => {}
        }
    }
    let signed_at = timestamp.ok_or(WebhookError::BadSignature)?;
    let seconds: i64 = signed_at.parse().map_err(|_| WebhookError::BadSignature)?;

    // Hmac takes a key of any length.
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).map_err(|_| WebhookError::BadSignature)?;
    mac.update(signed_at.as_bytes());
    mac.update(b".");
    mac.update(payload);
    // verify_slice compares in constant time.
    if !signatures.iter().any(|signature| mac.clone().verify_slice(signature).is_ok()) {
        return Err(WebhookError::BadSignature);
    }
    // Checked after the signature, so that only an event Stripe really sent is called stale.
    if now.abs_diff(seconds) > TOLERANCE_SECONDS {
        return Err(WebhookError::Stale);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"whsec_test_secret";
    const BODY: &[u8] = br#"{"id":"evt_1","type":"setup_intent.succeeded","data":{"object":{"id":"seti_1"}}}"#;
    const T: i64 = 1_700_000_000;

    fn sign(secret: &[u8], t: i64, body: &[u8]) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret).unwrap();
        mac.update(format!("{t}.").as_bytes());
        mac.update(body);
        hex::encode(mac.finalize().into_bytes())
    }

    #[test]
    fn a_valid_signature_passes() {
        let header = format!("t={T},v1={}", sign(SECRET, T, BODY));
        assert_eq!(verify(SECRET, BODY, Some(&header), T + 5), Ok(()));
    }

    #[test]
    fn another_secret_does_not() {
        let header = format!("t={T},v1={}", sign(b"whsec_other", T, BODY));
        assert_eq!(verify(SECRET, BODY, Some(&header), T), Err(WebhookError::BadSignature));
    }

    #[test]
    fn a_tampered_body_does_not() {
        let header = format!("t={T},v1={}", sign(SECRET, T, BODY));
        let tampered = String::from_utf8_lossy(BODY).replace("seti_1", "seti_2");
        assert_eq!(verify(SECRET, tampered.as_bytes(), Some(&header), T), Err(WebhookError::BadSignature));
    }

    #[test]
    fn a_signature_for_another_time_does_not() {
        let header = format!("t={},v1={}", T + 1, sign(SECRET, T, BODY));
        assert_eq!(verify(SECRET, BODY, Some(&header), T), Err(WebhookError::BadSignature));
    }

    #[test]
    fn beyond_five_minutes_either_way_it_is_stale() {
        let header = format!("t={T},v1={}", sign(SECRET, T, BODY));
        assert_eq!(verify(SECRET, BODY, Some(&header), T + 300), Ok(()));
        assert_eq!(verify(SECRET, BODY, Some(&header), T - 300), Ok(()));
        assert_eq!(verify(SECRET, BODY, Some(&header), T + 301), Err(WebhookError::Stale));
        assert_eq!(verify(SECRET, BODY, Some(&header), T - 301), Err(WebhookError::Stale));
    }

    #[test]
    fn a_stale_header_with_a_bad_signature_is_a_bad_signature() {
        let header = format!("t={T},v1={}", sign(b"whsec_other", T, BODY));
        assert_eq!(verify(SECRET, BODY, Some(&header), T + 3600), Err(WebhookError::BadSignature));
    }

    #[test]
    fn any_of_several_v1_values_may_match() {
        let good = sign(SECRET, T, BODY);
        let old = sign(b"whsec_rolled", T, BODY);
        let header = format!("t={T},v1={old},v1=zz-not-hex,v1={good},v0={old}");
        assert_eq!(verify(SECRET, BODY, Some(&header), T), Ok(()));
        let header = format!("t={T}, v1={old}, v0={good}");
        assert_eq!(verify(SECRET, BODY, Some(&header), T), Err(WebhookError::BadSignature), "v0 is not checked");
    }

    #[test]
    fn a_missing_or_garbled_header_is_a_bad_signature() {
        let good = sign(SECRET, T, BODY);
        for header in [
            None,
            Some(String::new()),
            Some(good.clone()),
            Some(format!("v1={good}")),
            Some(format!("t={T}")),
            Some(format!("t=yesterday,v1={good}")),
            Some(format!("t={T},t={T},v1={good}")),
            Some(format!("t={T};v1={good}")),
            Some(format!("t={T},v1={}", &good[..20])),
        ] {
            assert_eq!(verify(SECRET, BODY, header.as_deref(), T), Err(WebhookError::BadSignature), "{header:?}");
        }
    }
}
