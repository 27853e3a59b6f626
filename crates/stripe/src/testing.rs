//! A real localstripe (<https://github.com/adrienverge/localstripe>, a Stripe API double) for
//! tests, started once per test binary, and what Stripe.js would do in the browser against
//! it. Behind the `testing` feature: production builds do not contain it.
//!
//! Where localstripe comes from, first found: the `LOCALSTRIPE` environment variable (a command,
//! arguments split at spaces, which must run localstripe's Python), `target/tools/venv` in the
//! workspace (`make tools` installs the pinned version there), `localstripe` on `PATH`.
//!
//! The process is started with `--from-scratch` and a small patch loaded through `PYTHONPATH`
//! (`testing/sitecustomize.py`): no `/tmp/localstripe.pickle` (localstripe's fixed path, which
//! parallel test binaries would share), a port of its own on 127.0.0.1, exit when this process
//! ends (it watches its stdin, whose other end is held here), and two Stripe behaviours the
//! adapter relies on: `Idempotency-Key` replays and a payment intent's `description`.

use std::fs::{self, File};
use std::io::Read as _;
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context as _, bail};

use crate::config::StripeConfig;

const PATCH: &str = include_str!("testing/sitecustomize.py");
const STARTUP: Duration = Duration::from_secs(30);
/// localstripe takes any key of the right shape.
const SECRET_KEY: &str = "sk_test_vestibule_localstripe";
const PUBLISHABLE_KEY: &str = "pk_test_vestibule_localstripe";
/// The expiry of cards made from a number here.
pub const CARD_EXPIRY: (i32, i32) = (12, 2040);

static SHARED: OnceLock<Localstripe> = OnceLock::new();

#[derive(Debug)]
pub struct Localstripe {
    /// `http://127.0.0.1:<port>`, the API base for [`StripeConfig::api_base`].
    pub url: String,
    /// Held, never written: localstripe exits when it reads end-of-file, that is when this
    /// process ends or this value is dropped.
    _lifeline: ChildStdin,
}

impl Localstripe {
    /// This test binary's localstripe, started at the first call. Panics, saying why, when it
    /// cannot be found or started.
    pub fn shared() -> &'static Localstripe {
        SHARED.get_or_init(|| match Self::start() {
            Ok(started) => started,
            Err(e) => panic!("localstripe: {e:#}"),
        })
    }

    pub fn secret_key(&self) -> &'static str {
        SECRET_KEY
    }

    /// The adapter's settings for this localstripe.
    pub fn config(&self, webhook_secret: &str) -> StripeConfig {
        StripeConfig {
            api_base: self.url.clone(),
            timeout: Duration::from_secs(10),
            ..StripeConfig::new(SECRET_KEY, webhook_secret)
        }
    }

    /// Has localstripe POST the events named (every event when none are) to `url`, signed with
    /// `secret`; a second call with the same `id` replaces the first. localstripe sends an event
    /// a second after it happens, with the event's creation time as the signature's `t`.
    pub async fn register_webhook(&self, id: &str, url: &str, secret: &str, events: &[&str]) -> anyhow::Result<()> {
        let mut form = vec![("url", url), ("secret", secret)];
        form.extend(events.iter().map(|event| ("events[]", *event)));
        let response = client()?.post(format!("{}/_config/webhooks/{id}", self.url)).form(&form).send().await?;
        let status = response.status();
        anyhow::ensure!(status.is_success(), "registering webhook {id}: {status}: {}", response.text().await?);
        Ok(())
    }

    /// What Stripe.js's `confirmCardSetup(client_secret, …)` does in the browser: confirms the
    /// setup with `method`, a payment method id (`pm_card_visa`, `pm_card_chargeCustomerFail`,
    /// one from [`Localstripe::new_card_token`]) or a card number (expiring [`CARD_EXPIRY`]).
    /// Returns Stripe's answer whatever its status: the setup intent, or `{"error": {...}}`
    /// for a declined card (402).
    pub async fn confirm_setup(&self, client_secret: &str, method: &str) -> anyhow::Result<serde_json::Value> {
        let Some((setup_ref, _)) = client_secret.split_once("_secret_") else {
            bail!("{client_secret:?} is not a setup intent's client secret");
        };
        let (month, year) = (CARD_EXPIRY.0.to_string(), CARD_EXPIRY.1.to_string());
        let mut form = vec![("key", PUBLISHABLE_KEY), ("client_secret", client_secret)];
        if method.starts_with("pm_") {
            form.push(("payment_method", method));
        } else {
            form.extend([
                ("payment_method_data[type]", "card"),
                ("payment_method_data[card][number]", method),
                ("payment_method_data[card][exp_month]", month.as_str()),
                ("payment_method_data[card][exp_year]", year.as_str()),
                ("payment_method_data[card][cvc]", "123"),
            ]);
        }
        let url = format!("{}/v1/setup_intents/{setup_ref}/confirm", self.url);
        let response = client()?.post(url).form(&form).send().await?;
        Ok(response.json().await?)
    }

    /// What Stripe.js's `createPaymentMethod` makes of a card number: a payment method token,
    /// attached to no one.
    pub async fn new_card_token(&self, number: &str) -> anyhow::Result<String> {
        let (month, year) = (CARD_EXPIRY.0.to_string(), CARD_EXPIRY.1.to_string());
        let form = [
            ("type", "card"),
            ("card[number]", number),
            ("card[exp_month]", month.as_str()),
            ("card[exp_year]", year.as_str()),
            ("card[cvc]", "123"),
        ];
        let response = client()?
            .post(format!("{}/v1/payment_methods", self.url))
            .bearer_auth(SECRET_KEY)
            .form(&form)
            .send()
            .await?;
        let status = response.status();
        let body: serde_json::Value = response.json().await?;
        match body["id"].as_str() {
            Some(id) if status.is_success() => Ok(id.to_owned()),
            _ => bail!("making a payment method of {number}: {status}: {body}"),
        }
    }

    fn start() -> anyhow::Result<Self> {
        let command = command()?;
        let unique = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or_default();
        let dir = std::env::temp_dir().join(format!("vestibule-localstripe-{}-{unique}", std::process::id()));
        fs::create_dir(&dir).with_context(|| format!("creating {}", dir.display()))?;
        let started = spawn(&command, &dir).and_then(|child| wait_until_ready(child, &dir));
        if started.is_err() {
            // On success localstripe removes it when it exits.
            let _ = fs::remove_dir_all(&dir);
        }
        started
    }
}

/// Each call's own client: a test's runtime ends with the test, and a pooled connection made
/// on it would fail the next test's request.
fn client() -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder().timeout(Duration::from_secs(10)).build()?)
}

fn command() -> anyhow::Result<Vec<String>> {
    if let Ok(given) = std::env::var("LOCALSTRIPE") {
        let words: Vec<String> = given.split_whitespace().map(str::to_owned).collect();
        anyhow::ensure!(!words.is_empty(), "LOCALSTRIPE is set but empty");
        return Ok(words);
    }
    // crates/stripe → the workspace root.
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).ancestors().nth(2).context("the workspace root")?;
    let tools = workspace.join("target/tools/venv/bin/localstripe");
    if tools.is_file() {
        return Ok(vec![tools.to_string_lossy().into_owned()]);
    }
    let on_path = std::env::var_os("PATH")
        .map(|paths| std::env::split_paths(&paths).map(|dir| dir.join("localstripe")).find(|p| p.is_file()));
    if let Some(found) = on_path.flatten() {
        return Ok(vec![found.to_string_lossy().into_owned()]);
    }
    bail!(
        "not found (neither LOCALSTRIPE, nor {}, nor localstripe on PATH). Install it with `make tools` \
         at the workspace root (a Python venv with the pinned localstripe), or set LOCALSTRIPE to a command \
         that runs localstripe",
        tools.display()
    )
}

fn spawn(command: &[String], dir: &Path) -> anyhow::Result<Child> {
    fs::write(dir.join("sitecustomize.py"), PATCH)?;
    let log = File::create(dir.join("localstripe.log"))?;
    let mut python_path = dir.as_os_str().to_owned();
    if let Some(theirs) = std::env::var_os("PYTHONPATH") {
        python_path.push(":");
        python_path.push(theirs);
    }
    let (program, args) = command.split_first().context("an empty command")?;
    Command::new(program)
        .args(args)
        // --port 0: localstripe binds its default port before the patch moves it to loopback.
        .args(["--from-scratch", "--port", "0"])
        .env("PYTHONPATH", python_path)
        .env("PYTHONUNBUFFERED", "1")
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .stdin(Stdio::piped())
        .stdout(log.try_clone()?)
        .stderr(log)
        .spawn()
        .with_context(|| format!("starting {}", command.join(" ")))
}

fn wait_until_ready(mut child: Child, dir: &Path) -> anyhow::Result<Localstripe> {
    let deadline = Instant::now() + STARTUP;
    let port_file = dir.join("port");
    let failure = loop {
        if let Some(status) = child.try_wait()? {
            break format!("exited ({status}) while starting");
        }
        if let Some(port) = fs::read_to_string(&port_file).ok().and_then(|p| p.trim().parse::<u16>().ok()) {
            let address = SocketAddr::from(([127, 0, 0, 1], port));
            if TcpStream::connect_timeout(&address, Duration::from_millis(200)).is_ok() {
                let lifeline = child.stdin.take().context("localstripe's stdin")?;
                return Ok(Localstripe { url: format!("http://{address}"), _lifeline: lifeline });
            }
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break if port_file.exists() {
                format!("did not answer within {STARTUP:?}")
            } else {
                // The port file comes from the patch: without it the command is not
                // localstripe's Python, or PYTHONPATH did not reach it.
                format!("gave no port within {STARTUP:?}: is the command localstripe itself (not a wrapper)?")
            };
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    bail!("{failure}; its output:\n{}", tail(&dir.join("localstripe.log")))
}

fn tail(log: &Path) -> String {
    let mut text = String::new();
    let _ = File::open(log).and_then(|mut f| f.read_to_string(&mut text));
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(40)..].join("\n")
}
