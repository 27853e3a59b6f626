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
        assert_eq!(swept, Swept { idempotency_keys: 1, sessions: usize::try_from(before).unwrap() });
        assert_eq!(app.count("idempotency_keys WHERE idempotency_key = 'fresh'"), 1);
        assert_eq!(app.count("refresh_tokens"), 0, "tokens go with their sessions");
    }
}
