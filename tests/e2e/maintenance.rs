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
        let six_hours = std::time::Duration::from_secs(6 * 3600);
        let swept = vestibule_server::maintenance::sweep_abandoned_uploads(&app.pool, &blobs, six_hours).await.unwrap();
        assert_eq!(swept, vestibule_server::maintenance::SweptUploads { recorded: 1, partial: 0 });
        assert!(matches!(blobs.read(&old, None).await, Err(vestibule_blobs::BlobError::NotFound)));
        assert!(blobs.read(&recent, None).await.is_ok(), "an upload in progress is left alone");
        assert_eq!(app.count("pending_blobs"), 1);
    }
}

on_both_backends! {
    async fn the_sweep_removes_incoming_files_no_upload_writes_any_more(backend) {
        let app = TestApp::spawn(backend).await;
        let blobs = vestibule_blobs::BlobStore::new(&vestibule_server::startup::blob_settings(&app.config)).unwrap();
        let vestibule_server::config::BlobStoreConfig::Filesystem { path } = &app.config.blob_store else {
            panic!("the suites store blobs in a folder")
        };
        let incoming = path.join(".incoming");
        let (dead, live) = (incoming.join("dead"), incoming.join("live"));
        std::fs::write(&dead, vec![0_u8; 4096]).unwrap();
        let two_hours_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(2 * 3600);
        std::fs::File::options().write(true).open(&dead).unwrap().set_modified(two_hours_ago).unwrap();
        std::fs::write(&live, b"an upload another instance is writing").unwrap();

        let hour = std::time::Duration::from_secs(3600);
        let swept = vestibule_server::maintenance::sweep_abandoned_uploads(&app.pool, &blobs, hour).await.unwrap();
        assert_eq!(swept, vestibule_server::maintenance::SweptUploads { recorded: 0, partial: 1 });
        assert!(!dead.exists(), "untouched for two hours: its process is gone");
        assert!(live.exists(), "written a moment ago: an upload in progress");
    }
}
