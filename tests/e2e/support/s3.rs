//! A real S3 protocol server (`s3s-fs`, serving a scratch folder) on a free loopback port,
//! in the test process.

use std::path::PathBuf;

use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder as ConnBuilder;

pub const ACCESS_KEY: &str = "vestibule-test";
pub const SECRET_KEY: &str = "vestibule-test-secret";
pub const BUCKET: &str = "documents";

pub struct S3Server {
    pub endpoint: String,
    /// The folder behind the bucket, to see what is stored.
    pub root: PathBuf,
}

impl S3Server {
    pub async fn start() -> Self {
        let root = std::env::temp_dir().join(format!("vestibule-s3-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(root.join(BUCKET)).expect("bucket folder");
        let fs = s3s_fs::FileSystem::new(&root).expect("s3s-fs");
        let service = {
            let mut builder = s3s::service::S3ServiceBuilder::new(fs);
            builder.set_auth(s3s::auth::SimpleAuth::from_single(ACCESS_KEY, SECRET_KEY));
            builder.build()
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let address = listener.local_addr().expect("address");
        tokio::spawn(async move {
            let http = ConnBuilder::new(TokioExecutor::new());
            loop {
                let Ok((socket, _)) = listener.accept().await else { continue };
                let connection = http.serve_connection(TokioIo::new(socket), service.clone()).into_owned();
                tokio::spawn(async move {
                    let _ = connection.await;
                });
            }
        });
        Self { endpoint: format!("http://{address}"), root }
    }

    /// The settings that point the application at this server.
    pub fn settings(&self) -> Vec<(&'static str, String)> {
        vec![
            ("BLOB_STORE", "s3".to_owned()),
            ("S3_BUCKET", BUCKET.to_owned()),
            ("S3_ENDPOINT", self.endpoint.clone()),
            ("S3_ACCESS_KEY_ID", ACCESS_KEY.to_owned()),
            ("S3_SECRET_ACCESS_KEY", SECRET_KEY.to_owned()),
            ("S3_PATH_STYLE", "true".to_owned()),
        ]
    }
}
