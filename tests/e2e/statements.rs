//! What a request costs the database, counted statement by statement: reads that a page
//! needs and nothing else (no pool test query, no second lookup of the caller).

use reqwest::Method;

use crate::on_both_backends;
use crate::support::{Backend, TestApp};

/// Background work that polls the database (deliveries, live events) waits long enough not
/// to run inside a count.
const QUIET: &[(&str, &str)] = &[("DISPATCH_POLL_MS", "600000"), ("LIVE_POLL_MS", "600000")];

async fn quiet_app(backend: Backend) -> TestApp {
    let app = TestApp::spawn_with(backend, QUIET).await;
    // Whatever the workers run once at start has run by now.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    app
}

/// Statements that `request` ran, measured after one warm-up call of the same request.
async fn statements_of(app: &TestApp, method: Method, path: &str, token: &str) -> u64 {
    let warm = app.call(method.clone(), path, Some(token), None).await;
    assert!(warm.status.is_success(), "{path}: {} {}", warm.status, warm.body);
    let before = app.statements();
    let reply = app.call(method, path, Some(token), None).await;
    assert!(reply.status.is_success(), "{path}: {} {}", reply.status, reply.body);
    app.statements() - before
}

on_both_backends! {
    async fn reading_a_client_costs_its_three_reads_and_one_look_at_the_caller(backend) {
        let app = quiet_app(backend).await;
        let firm = app.firm("counted").await;
        let client = app.client(&firm.owner_token, "Ada Counted").await;
        let path = format!("/v1/clients/{}", client["id"].as_str().unwrap());
        let (_, key) = app.api_key(&firm.owner_token, &["clients:read"]).await;
        let by_token = statements_of(&app, Method::GET, &path, &firm.owner_token).await;
        let by_key = statements_of(&app, Method::GET, &path, &key).await;
        println!("GET client: {by_token} statements with a staff token, {by_key} with an API key");
        let list = statements_of(&app, Method::GET, "/v1/clients?limit=50", &firm.owner_token).await;
        let conversations = statements_of(&app, Method::GET, "/v1/conversations?limit=50", &firm.owner_token).await;
        println!("GET clients: {list}; GET conversations: {conversations}");
        assert!(by_token <= 4, "a client GET with a staff token ran {by_token} statements");
        assert!(by_key <= 4, "a client GET with an API key ran {by_key} statements");
    }
}
