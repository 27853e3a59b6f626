//! Audit head anchoring: the checkpoint pass publishes each firm's moved head, signed with
//! Ed25519, to webhooks subscribed to `audit.checkpoint`; receivers check it with the
//! published key, independently of the server's code.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::{Signature, VerifyingKey};
use serde_json::{Value, json};

use crate::on_both_backends;
use crate::support::TestApp;
use crate::support::receiver::{Receiver, signature_is_valid};

/// The head as the audit API reports it: the verified sequence number and that event's hash.
async fn reported_head(app: &TestApp, token: &str) -> (i64, String) {
    let verification = app.get("/v1/audit-events/verification", token).await;
    assert_eq!(verification.body["intact"], true, "{}", verification.body);
    let seq = verification.body["head_seq"].as_i64().unwrap();
    let events = app.get("/v1/audit-events?limit=100", token).await;
    assert_eq!(events.status, 200, "{}", events.body);
    let last = events.body["data"].as_array().unwrap().iter().find(|e| e["seq"] == seq).cloned();
    let last = last.unwrap_or_else(|| panic!("no event {seq} in {}", events.body));
    (seq, last["hash"].as_str().unwrap().to_owned())
}

/// Checks a checkpoint's signature with the published key, as an outside auditor would.
fn signature_verifies(key: &Value, data: &Value) -> bool {
    let public: [u8; 32] = STANDARD.decode(key["public_key"].as_str().unwrap()).unwrap().try_into().unwrap();
    let signature = STANDARD.decode(data["signature"].as_str().unwrap()).unwrap();
    let message = format!(
        "vestibule-audit-checkpoint:v1:{}:{}:{}:{}",
        data["firm_id"].as_str().unwrap(),
        data["seq"],
        data["head_hash"].as_str().unwrap(),
        data["signed_at"].as_str().unwrap()
    );
    let Ok(signature) = Signature::from_slice(&signature) else { return false };
    VerifyingKey::from_bytes(&public).unwrap().verify_strict(message.as_bytes(), &signature).is_ok()
}

on_both_backends! {
    async fn a_moved_head_is_published_signed_once(backend) {
        let app = TestApp::spawn(backend).await;
        let firm = app.firm("harbor").await;
        let hook = Receiver::start().await;
        let created = app.post("/v1/webhook-endpoints", &firm.owner_token, &json!({ "url": hook.url, "event_types": ["audit.checkpoint"] })).await;
        assert_eq!(created.status, 201, "{}", created.body);
        let secret = created.body["secret"].as_str().unwrap().to_owned();
        app.client(&firm.owner_token, "Ada Lovelace").await;
        let (seq, hash) = reported_head(&app, &firm.owner_token).await;

        assert_eq!(app.checkpoint_pass(), 1);
        let received = hook.wait_for(1).await;
        assert!(signature_is_valid(&secret, &received[0]));
        let body = received[0].json();
        assert_eq!(body["type"], "audit.checkpoint");
        let data = &body["data"];
        assert_eq!(data["id"], firm.id);
        assert_eq!(data["firm_id"], firm.id);
        assert_eq!(data["seq"], seq);
        assert_eq!(data["head_hash"], hash);
        let key = app.get("/v1/audit-events/checkpoint-key", &firm.owner_token).await;
        assert_eq!(key.status, 200, "{}", key.body);
        assert_eq!(key.body["algorithm"], "ed25519");
        assert_eq!(data["key_id"], key.body["key_id"]);
        assert!(signature_verifies(&key.body, data), "checkpoint {data} against key {}", key.body);

        let mut forged = data.clone();
        forged["seq"] = json!(seq + 1);
        assert!(!signature_verifies(&key.body, &forged), "the signature covers the head");
        assert_eq!(reported_head(&app, &firm.owner_token).await, (seq, hash), "publishing is not itself audited");

        assert_eq!(app.checkpoint_pass(), 0, "an unchanged head is not published again");
        app.client(&firm.owner_token, "Charles Babbage").await;
        let (next_seq, next_hash) = reported_head(&app, &firm.owner_token).await;
        assert_eq!(app.checkpoint_pass(), 1);
        let received = hook.wait_for(2).await;
        let next = received[1].json();
        assert_eq!(next["data"]["seq"], next_seq);
        assert_eq!(next["data"]["head_hash"], next_hash);
        assert!(signature_verifies(&key.body, &next["data"]));
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        assert_eq!(hook.received().len(), 2, "the receiver hears only of checkpoints");
    }

    async fn instances_passing_together_publish_a_head_once(backend) {
        let app = TestApp::spawn(backend).await;
        let firm = app.firm("harbor").await;
        let hook = Receiver::start().await;
        let created = app.post("/v1/webhook-endpoints", &firm.owner_token, &json!({ "url": hook.url, "event_types": ["audit.checkpoint"] })).await;
        assert_eq!(created.status, 201, "{}", created.body);
        let published = std::thread::scope(|scope| {
            let passes: Vec<_> = (0..2).map(|_| scope.spawn(|| app.checkpoint_pass())).collect();
            passes.into_iter().map(|pass| pass.join().unwrap()).sum::<usize>()
        });
        assert_eq!(published, 1);
        hook.wait_for(1).await;
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        assert_eq!(hook.received().len(), 1);
    }

    async fn every_instance_signs_with_the_configured_key(backend) {
        let seed = STANDARD.encode([7_u8; 32]);
        let app = TestApp::spawn_with(backend, &[("AUDIT_SIGNING_KEY", seed.as_str())]).await;
        let firm = app.firm("harbor").await;
        let key = app.get("/v1/audit-events/checkpoint-key", &firm.owner_token).await;
        let expected = ed25519_dalek::SigningKey::from_bytes(&[7_u8; 32]).verifying_key();
        assert_eq!(key.body["public_key"], STANDARD.encode(expected.as_bytes()));
        let (_, api_key) = app.api_key(&firm.owner_token, &["audit:read"]).await;
        let by_key = app.get("/v1/audit-events/checkpoint-key", &api_key).await;
        assert_eq!(by_key.body, key.body);
    }
}
