//! The release binary as an operator starts it on the embedded default: how long until it
//! answers `/healthz`, on an empty data folder and again on the one it made, and its
//! resident memory once idle.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Where `make bench` builds the binary; another path can be given in `VESTIBULE_BIN`.
const DEFAULT_BINARY: &str = "../target/release/vestibule";

pub async fn report() {
    let binary = std::env::var("VESTIBULE_BIN").unwrap_or_else(|_| DEFAULT_BINARY.to_owned());
    if !std::path::Path::new(&binary).exists() {
        println!("\nrelease binary: {binary} not built (`make bench` builds it): start and idle memory skipped");
        return;
    }
    let data = std::env::temp_dir().join(format!("vestibule-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data);
    println!("\nrelease binary, embedded default (SQLite, local blobs, mail folder):");
    println!("| measure | value | target |");
    println!("|---|---:|---:|");
    let (fresh, mut child) = start(&binary, &data).await;
    stop(&mut child);
    let (again, mut child) = start(&binary, &data).await;
    println!("| start to first `/healthz` on an empty data folder | {:.0} ms | ≤ 300 ms |", fresh * 1000.0);
    println!("| start to first `/healthz` on its own data folder | {:.0} ms | ≤ 300 ms |", again * 1000.0);
    tokio::time::sleep(Duration::from_secs(3)).await;
    let status = std::fs::read_to_string(format!("/proc/{}/status", child.id())).unwrap_or_default();
    let mib = |field: &str| kib(&status, field) / 1024.0;
    println!("| resident memory after 3 s idle | {:.1} MiB | ≤ 30 MiB |", mib("VmRSS:"));
    println!("| of which private (heap, stacks) | {:.1} MiB | |", mib("RssAnon:"));
    println!("| of which mapped from files (code, libraries) | {:.1} MiB | |", mib("RssFile:"));
    stop(&mut child);
    let _ = std::fs::remove_dir_all(&data);
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free port").port()
}

async fn start(binary: &str, data: &std::path::Path) -> (f64, Child) {
    let port = free_port();
    let began = Instant::now();
    let child = Command::new(binary)
        .arg("serve")
        .env("DATA_DIR", data)
        .env("DATABASE_URL", format!("sqlite://{}/vestibule.db", data.display()))
        .env("BIND_ADDRESS", format!("127.0.0.1:{port}"))
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the release binary starts");
    let url = format!("http://127.0.0.1:{port}/healthz");
    let http = reqwest::Client::new();
    while !http.get(&url).send().await.is_ok_and(|r| r.status().is_success()) {
        assert!(began.elapsed() < Duration::from_secs(30), "the binary did not answer within 30 s");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    (began.elapsed().as_secs_f64(), child)
}

/// SIGTERM, as a service manager stops it, so the next start finds a clean database.
fn stop(child: &mut Child) {
    let _ = Command::new("kill").arg("-TERM").arg(child.id().to_string()).status();
    let _ = child.wait();
}

/// A `/proc/<pid>/status` field in KiB.
fn kib(status: &str, field: &str) -> f64 {
    status
        .lines()
        .find_map(|line| line.strip_prefix(field))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|kib| kib.parse().ok())
        .unwrap_or(0.0)
}
