//! Firms, people and records that scenarios start from, created the way users create them
//! (through the API) except for what the API cannot do (create a firm, give a contact a
//! password before the portals feature exists).

use diesel::prelude::*;
use serde_json::{Value, json};
use vestibule_server::provision::{self, NewFirm};

use super::TestApp;

pub const PASSWORD: &str = "a sturdy passphrase";

#[derive(Debug, Clone)]
pub struct Firm {
    pub id: String,
    pub slug: String,
    pub owner_id: String,
    pub owner_token: String,
}

impl TestApp {
    /// A new firm whose owner is signed in.
    pub async fn firm(&self, slug: &str) -> Firm {
        let email = format!("owner@{slug}.test");
        let created = provision::create_firm(
            &mut self.conn(),
            &NewFirm {
                slug: slug.to_owned(),
                name: format!("{slug} LLP"),
                owner_email: email.clone(),
                owner_name: "Olive Owner".to_owned(),
                owner_password: PASSWORD.to_owned(),
            },
        )
        .expect("provisioning a firm");
        let owner_token = self.token(slug, &email).await;
        Firm {
            id: created.firm_id.to_string(),
            slug: slug.to_owned(),
            owner_id: created.owner_id.to_string(),
            owner_token,
        }
    }

    pub async fn login(&self, firm: &str, email: &str, password: &str) -> super::Reply {
        let body = json!({ "firm": firm, "email": email, "password": password });
        self.call(reqwest::Method::POST, "/v1/auth/login", None, Some(&body)).await
    }

    pub async fn token(&self, firm: &str, email: &str) -> String {
        let reply = self.login(firm, email, PASSWORD).await;
        assert_eq!(reply.status, 200, "login failed: {}", reply.body);
        reply.body["access_token"].as_str().expect("access token").to_owned()
    }

    /// A staff member of `firm` with `role` and a password set the way only the CLI can
    /// (the API invites staff instead); returns id and token.
    pub async fn staff(&self, firm: &Firm, role: &str, email: &str) -> (String, String) {
        let id = self.staff_member(firm, role, email, false);
        (id, self.token(&firm.slug, email).await)
    }

    /// Like [`Self::staff`], choosing the portal permission; returns the id.
    pub fn staff_member(&self, firm: &Firm, role: &str, email: &str, portal_permission: bool) -> String {
        let new = provision::NewStaffMember {
            firm_slug: firm.slug.clone(),
            email: email.to_owned(),
            name: "Sam Staff".to_owned(),
            role: vestibule_domain::roles::StaffRole::from_stored(role).expect("a role"),
            portal_permission,
            password: PASSWORD.to_owned(),
        };
        provision::create_staff(&mut self.conn(), &new).expect("creating a staff member").to_string()
    }

    pub async fn client(&self, token: &str, name: &str) -> Value {
        let reply = self.post("/v1/clients", token, &json!({ "kind": "person", "name": name, "emails": [format!("{}@client.test", name.to_lowercase().replace(' ', "."))] })).await;
        assert_eq!(reply.status, 201, "{}", reply.body);
        reply.body
    }

    pub async fn contact(&self, token: &str, client_id: &str, email: &str) -> Value {
        let body = json!({ "first_name": "Cora", "last_name": "Contact", "email": email, "of": { "kind": "client", "id": client_id } });
        let reply = self.post("/v1/contacts", token, &body).await;
        assert_eq!(reply.status, 201, "{}", reply.body);
        reply.body
    }

    pub async fn matter(&self, token: &str, client_id: &str, restricted: bool) -> Value {
        let body = json!({ "client_id": client_id, "title": "Estate of A.", "restricted": restricted });
        let reply = self.post("/v1/matters", token, &body).await;
        assert_eq!(reply.status, 201, "{}", reply.body);
        reply.body
    }

    pub async fn office(&self, token: &str) -> Value {
        let reply = self.post("/v1/offices", token, &json!({ "name": "City office" })).await;
        assert_eq!(reply.status, 201, "{}", reply.body);
        reply.body
    }

    /// An API key with these scopes; returns its id and secret.
    pub async fn api_key(&self, token: &str, scopes: &[&str]) -> (String, String) {
        let reply = self.post("/v1/api-keys", token, &json!({ "name": "sync", "scopes": scopes })).await;
        assert_eq!(reply.status, 201, "{}", reply.body);
        (reply.id(), reply.body["secret"].as_str().expect("secret").to_owned())
    }

    /// Signs a contact in to the portal: a full portal with access to the contact's client,
    /// registered directly (the invitation flow has scenarios of its own).
    pub async fn contact_token(&self, firm: &Firm, contact_id: &str, email: &str) -> String {
        let contact = self.get(&format!("/v1/contacts/{contact_id}"), &firm.owner_token).await;
        let body = json!({ "contact_id": contact_id, "kind": "full", "invite": false, "grants": [{ "client_id": contact.body["of"]["id"] }] });
        let portal = self.post("/v1/portals", &firm.owner_token, &body).await;
        assert_eq!(portal.status, 201, "{}", portal.body);
        vestibule_storage::portals::activate(&mut self.conn(), &portal.id(), vestibule_storage::now())
            .expect("activate");
        let hash = vestibule_app::password::hash(PASSWORD).expect("hash");
        vestibule_storage::credentials::set_password(&mut self.conn(), &firm.id, contact_id, &hash).expect("password");
        let body = json!({ "firm": firm.slug, "email": email, "password": PASSWORD });
        let reply = self.call(reqwest::Method::POST, "/v1/portal/auth/login", None, Some(&body)).await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        reply.body["access_token"].as_str().expect("access token").to_owned()
    }

    pub fn count(&self, table_sql: &str) -> i64 {
        #[derive(QueryableByName)]
        struct Count {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        diesel::sql_query(format!("SELECT COUNT(*) AS n FROM {table_sql}"))
            .get_result::<Count>(&mut *self.conn())
            .expect("count")
            .n
    }

    /// Waits (up to a minute: CI runs many suites at once on two cores) until `table_sql` counts
    /// `expected` rows, and fails the test if it never does.
    pub async fn wait_for_count(&self, table_sql: &str, expected: i64) {
        for _ in 0..1200 {
            if self.count(table_sql) == expected {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        assert_eq!(self.count(table_sql), expected, "{table_sql}");
    }

    pub fn audit_count(&self, firm_id: &str) -> i64 {
        self.count(&format!("audit_events WHERE firm_id = '{firm_id}'"))
    }
}
