//! Load on one endpoint: the peak rate with a fixed number of connections each sending its
//! next request as soon as the last one is answered, and the latency at a fixed rate (half
//! of that peak), where requests are sent on a schedule whatever the answers do.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tokio::time::MissedTickBehavior;

/// Builds the `n`-th request of a run.
pub type Make = Arc<dyn Fn(usize) -> reqwest::RequestBuilder + Send + Sync>;

pub const CONNECTIONS: usize = 8;
const WINDOW: Duration = Duration::from_secs(3);
const WARM_UP: Duration = Duration::from_millis(300);

#[derive(Debug, Clone, Copy)]
pub struct Stats {
    pub rate: f64,
    pub p50: f64,
    pub p99: f64,
}

impl Stats {
    fn of(mut latencies: Vec<Duration>, elapsed: Duration) -> Self {
        latencies.sort();
        let at = |q: f64| latencies[((latencies.len() as f64 - 1.0) * q).round() as usize].as_secs_f64() * 1000.0;
        Self { rate: latencies.len() as f64 / elapsed.as_secs_f64(), p50: at(0.5), p99: at(0.99) }
    }
}

async fn send(request: reqwest::RequestBuilder) {
    let response = request.send().await.expect("an answer");
    let status = response.status();
    let body = response.bytes().await.expect("the whole body");
    assert!(status.is_success(), "{status}: {}", String::from_utf8_lossy(&body));
}

/// Requests from `CONNECTIONS` loops for the window, after a short warm-up.
pub async fn peak(make: &Make) -> Stats {
    closed_loop(make, WARM_UP).await;
    closed_loop(make, WINDOW).await
}

async fn closed_loop(make: &Make, window: Duration) -> Stats {
    let counter = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let deadline = started + window;
    let loops: Vec<_> = (0..CONNECTIONS)
        .map(|_| {
            let (make, counter) = (Arc::clone(make), Arc::clone(&counter));
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                while Instant::now() < deadline {
                    let request = make(counter.fetch_add(1, Ordering::Relaxed));
                    let sent = Instant::now();
                    send(request).await;
                    latencies.push(sent.elapsed());
                }
                latencies
            })
        })
        .collect();
    let mut latencies = Vec::new();
    for handle in loops {
        latencies.extend(handle.await.expect("a load loop"));
    }
    Stats::of(latencies, started.elapsed())
}

/// Requests sent `rate` times a second for the window, each on its own task.
pub async fn at_rate(make: &Make, rate: f64) -> Stats {
    let count = (rate * WINDOW.as_secs_f64()).max(1.0) as usize;
    let mut ticker = tokio::time::interval(Duration::from_secs_f64(1.0 / rate.max(1.0)));
    ticker.set_missed_tick_behavior(MissedTickBehavior::Burst);
    let started = Instant::now();
    let mut sent = Vec::with_capacity(count);
    for n in 0..count {
        ticker.tick().await;
        let request = make(n);
        sent.push(tokio::spawn(async move {
            let at = Instant::now();
            send(request).await;
            at.elapsed()
        }));
    }
    let mut latencies = Vec::with_capacity(count);
    for handle in sent {
        latencies.push(handle.await.expect("a scheduled request"));
    }
    Stats::of(latencies, started.elapsed())
}

/// One endpoint against its baseline, as a row of the Markdown table `header` opens.
pub struct Compared {
    pub name: String,
    pub app: Stats,
    pub half: Stats,
    pub baseline: Option<Stats>,
}

pub fn header() {
    println!(
        "| request | Vestibule req/s | baseline req/s | ratio | p50 / p99 ms at peak | p50 / p99 ms at half peak |"
    );
    println!("|---|---:|---:|---:|---:|---:|");
}

impl Compared {
    /// Measures the app at its peak and at half of it, then the baseline at its peak.
    pub async fn measure(name: &str, app: &Make, baseline: Option<&Make>) -> Self {
        let peak_stats = peak(app).await;
        let half = at_rate(app, peak_stats.rate / 2.0).await;
        let baseline = match baseline {
            Some(make) => Some(peak(make).await),
            None => None,
        };
        let compared = Self { name: name.to_owned(), app: peak_stats, half, baseline };
        compared.print();
        compared
    }

    fn print(&self) {
        let (rate, ratio) = match self.baseline {
            Some(b) => (format!("{:.0}", b.rate), format!("{:.2}×", self.app.rate / b.rate)),
            None => ("—".to_owned(), "—".to_owned()),
        };
        println!(
            "| {} | {:.0} | {rate} | {ratio} | {:.2} / {:.2} | {:.2} / {:.2} |",
            self.name, self.app.rate, self.app.p50, self.app.p99, self.half.p50, self.half.p99
        );
    }
}
