use chrono::Duration;
use diesel::prelude::*;
use vestibule_server::maintenance::{Swept, sweep};
use vestibule_storage::schema::{idempotency_keys, sessions};

use crate::on_both_backends;
use crate::support::TestApp;

on_both_backends! {
    async fn the_sweep_removes_old_idempotency_keys_and_ended_sessions_only(backend) {
        let app = TestApp::spawn(backend).await;
        let firm = app.firm("harbor").await;
        let login = app.login("harbor", "owner@harbor.test", crate::support::fixtures::PASSWORD).await;
        assert_eq!(login.status, 200);
        let now = vestibule_storage::now();
        for (key, age) in [("old", Duration::hours(25)), ("fresh", Duration::hours(1))] {
            diesel::insert_into(idempotency_keys::table)
                .values((
                    idempotency_keys::principal_id.eq("staff:x"),
                    idempotency_keys::idempotency_key.eq(key),
                    idempotency_keys::request_hash.eq("h"),
                    idempotency_keys::created_at.eq(now - age),
                ))
                .execute(&mut *app.conn())
                .unwrap();
        }
        let before = app.count("sessions");
        diesel::update(sessions::table.filter(sessions::staff_id.eq(&firm.owner_id)))
            .set(sessions::revoked_at.eq(now - Duration::days(8)))
            .execute(&mut *app.conn())
            .unwrap();
        let swept = sweep(&app.pool).unwrap();
        assert_eq!(swept, Swept { idempotency_keys: 1, sessions: usize::try_from(before).unwrap(), deliveries: 0, live_events: 0, link_sessions: 0, login_challenges: 0, rate_limits: 0 });
        assert_eq!(app.count("idempotency_keys WHERE idempotency_key = 'fresh'"), 1);
        assert_eq!(app.count("refresh_tokens"), 0, "tokens go with their sessions");
    }

    async fn the_sweep_removes_old_finished_deliveries_and_their_events(backend) {
        use vestibule_storage::schema::{deliveries, outbox_events};
        let app = TestApp::spawn(backend).await;
        let firm = app.firm("harbor").await;
        let hook = crate::support::receiver::Receiver::start().await;
        let reply = app.post("/v1/webhook-endpoints", &firm.owner_token, &serde_json::json!({ "url": hook.url })).await;
        assert_eq!(reply.status, 201);
        app.client(&firm.owner_token, "Old").await;
        hook.wait_for(1).await;
        app.wait_for_count("deliveries WHERE status = 'delivered'", 1).await;
        let long_ago = vestibule_storage::now() - Duration::days(31);
        diesel::update(deliveries::table).set(deliveries::created_at.eq(long_ago)).execute(&mut *app.conn()).unwrap();
        diesel::update(outbox_events::table).set(outbox_events::occurred_at.eq(long_ago)).execute(&mut *app.conn()).unwrap();
        app.client(&firm.owner_token, "Recent").await;
        let swept = sweep(&app.pool).unwrap();
        assert_eq!(swept.deliveries, 1);
        assert_eq!(app.count("delivery_attempts"), app.count("delivery_attempts WHERE delivery_id IN (SELECT id FROM deliveries)"));
        assert_eq!(app.count("outbox_events"), 1, "only the recent event is left");
    }

    async fn the_sweep_removes_uploads_whose_process_died_midway(backend) {
        let app = TestApp::spawn(backend).await;
        let firm = app.firm("harbor").await;
        let blobs = vestibule_blobs::BlobStore::new(&vestibule_server::startup::blob_settings(&app.config)).unwrap();
        let body = futures_util::stream::iter(vec![Ok::<_, String>(bytes::Bytes::from_static(b"orphan"))]);
        let (old, recent) = (format!("{}/doc_old/a", firm.id), format!("{}/doc_new/b", firm.id));
        for key in [&old, &recent] {
            vestibule_storage::documents::begin_upload(&mut app.conn(), &firm.id, key).unwrap();
            blobs.put(key, body.clone(), 100).await.unwrap();
        }
        diesel::update(vestibule_storage::schema::pending_blobs::table.find(&old))
            .set(vestibule_storage::schema::pending_blobs::started_at.eq(vestibule_storage::now() - Duration::days(1)))
            .execute(&mut *app.conn())
            .unwrap();
        let swept = vestibule_server::maintenance::sweep_abandoned_uploads(&app.pool, &blobs).await.unwrap();
        assert_eq!(swept, 1);
        assert!(matches!(blobs.read(&old, None).await, Err(vestibule_blobs::BlobError::NotFound)));
        assert!(blobs.read(&recent, None).await.is_ok(), "an upload in progress is left alone");
        assert_eq!(app.count("pending_blobs"), 1);
    }
}
