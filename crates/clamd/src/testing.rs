//! A real clamd for tests, with a signature database written here: the EICAR test signature
//! (there is no signature download in CI). Behind the `testing` feature: production builds do
//! not contain it.
//!
//! clamd comes from the `CLAMD` environment variable, else `/usr/sbin/clamd` (Debian's
//! `clamav-daemon`, which `.ci/run` installs), else `clamd` on `PATH`. Each instance has its
//! own folder and port; it can be stopped and started again on the same port, to show what
//! an outage does. clamd runs under a small shell that holds a pipe from this process and
//! kills clamd when the pipe closes: when the value is dropped, or when the test binary
//! ends (a static is never dropped), so no clamd outlives its tests.

use std::io::{Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use crate::Address;

/// The EICAR anti-virus test file: harmless, and detected by every scanner as if it were not.
pub const EICAR: &[u8] = br"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*";

/// The largest stream the test clamd accepts, as `CLAMD_MAX_STREAM_BYTES` should say.
pub const MAX_STREAM_BYTES: u64 = 64 * 1024 * 1024;

const STARTUP: Duration = Duration::from_secs(60);

static SHARED: OnceLock<TestClamd> = OnceLock::new();
static NEXT: AtomicU32 = AtomicU32::new(0);

#[derive(Debug)]
pub struct TestClamd {
    port: u16,
    folder: PathBuf,
    process: Mutex<Option<Running>>,
}

#[derive(Debug)]
struct Running {
    shell: Child,
    /// Never written: closing it stops clamd.
    lifeline: ChildStdin,
}

impl TestClamd {
    /// This test binary's clamd, started at the first call. Panics, saying why, when clamd
    /// cannot be found or started.
    pub fn shared() -> &'static TestClamd {
        SHARED.get_or_init(Self::start)
    }

    /// A clamd of its own, for a test that stops it.
    pub fn start() -> TestClamd {
        let folder = std::env::temp_dir().join(format!(
            "vestibule-clamd-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let port = free_port();
        let clamd = TestClamd { port, folder, process: Mutex::new(None) };
        if let Err(error) = clamd.prepare().and_then(|()| clamd.resume_inner()) {
            panic!("clamd: {error}");
        }
        clamd
    }

    pub fn address(&self) -> Address {
        Address::Tcp(format!("127.0.0.1:{}", self.port))
    }

    /// `CLAMD_ADDRESS` for the application.
    pub fn address_setting(&self) -> String {
        format!("tcp://127.0.0.1:{}", self.port)
    }

    /// Kills clamd: scans fail as in an outage until [`Self::resume`].
    pub fn stop(&self) {
        if let Some(Running { mut shell, lifeline }) = self.lock().take() {
            drop(lifeline);
            let _ = shell.wait();
        }
    }

    /// Starts clamd again on the same port and waits until it answers.
    pub fn resume(&self) {
        if let Err(error) = self.resume_inner() {
            panic!("clamd: {error}");
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Running>> {
        self.process.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn prepare(&self) -> Result<(), String> {
        let database = self.folder.join("db");
        std::fs::create_dir_all(&database).map_err(|e| format!("creating {}: {e}", database.display()))?;
        // A body signature (any file type, anywhere in the file), so EICAR is found inside
        // larger files and across chunk boundaries too.
        let signature = format!("Eicar-Test-Signature:0:*:{}\n", hex(EICAR));
        write(&database.join("eicar.ndb"), &signature)?;
        let config = format!(
            "DatabaseDirectory {db}\nTCPSocket {port}\nTCPAddr 127.0.0.1\nForeground yes\nLogFile {log}\n\
             StreamMaxLength {max}\nMaxFileSize {max}\nMaxScanSize {max}\n",
            db = database.display(),
            port = self.port,
            log = self.folder.join("clamd.log").display(),
            max = MAX_STREAM_BYTES,
        );
        write(&self.folder.join("clamd.conf"), &config)
    }

    fn resume_inner(&self) -> Result<(), String> {
        let binary = binary()?;
        let mut shell = Command::new("sh")
            .arg("-c")
            .arg(r#""$0" -c "$1" < /dev/null & clamd=$!; read _; kill $clamd; wait $clamd"#)
            .arg(&binary)
            .arg(self.folder.join("clamd.conf"))
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("starting {}: {e}", binary.display()))?;
        let lifeline = shell.stdin.take().ok_or("no pipe to the clamd shell")?;
        *self.lock() = Some(Running { shell, lifeline });
        let started = Instant::now();
        while started.elapsed() < STARTUP {
            if ping(self.port) {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let log = std::fs::read_to_string(self.folder.join("clamd.log")).unwrap_or_default();
        Err(format!("no PONG on port {} within {STARTUP:?}; clamd's log:\n{log}", self.port))
    }
}

impl Drop for TestClamd {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.folder);
    }
}

fn binary() -> Result<PathBuf, String> {
    if let Some(configured) = std::env::var_os("CLAMD") {
        return Ok(PathBuf::from(configured));
    }
    let debian = Path::new("/usr/sbin/clamd");
    if debian.exists() {
        return Ok(debian.to_path_buf());
    }
    std::env::var_os("PATH")
        .and_then(|path| std::env::split_paths(&path).map(|dir| dir.join("clamd")).find(|p| p.exists()))
        .ok_or_else(|| "clamd not found: install Debian's clamav-daemon (`.ci/run` does) or set CLAMD".to_owned())
}

fn ping(port: u16) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let mut answer = Vec::new();
    stream.write_all(b"zPING\0").is_ok() && stream.read_to_end(&mut answer).is_ok() && answer.starts_with(b"PONG")
}

fn free_port() -> u16 {
    TcpListener::bind(("127.0.0.1", 0))
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .unwrap_or_else(|e| panic!("no free port: {e}"))
}

fn write(path: &Path, content: &str) -> Result<(), String> {
    std::fs::write(path, content).map_err(|e| format!("writing {}: {e}", path.display()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
