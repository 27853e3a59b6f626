//! A real S3 protocol server (`s3s-fs`, serving a scratch folder) on a free loopback port,
//! in the test process. s3s-fs 0.14.1 does not implement `ListMultipartUploads`; [`Store`]
//! adds it from the upload files s3s-fs keeps, and hands every other operation to s3s-fs.

use std::path::{Path, PathBuf};

use base64::Engine;
use s3s::dto::{
    AbortMultipartUploadInput, AbortMultipartUploadOutput, CompleteMultipartUploadInput, CompleteMultipartUploadOutput,
    CreateMultipartUploadInput, CreateMultipartUploadOutput, DeleteObjectInput, DeleteObjectOutput, GetObjectInput,
    GetObjectOutput, HeadObjectInput, HeadObjectOutput, ListMultipartUploadsInput, ListMultipartUploadsOutput,
    ListPartsInput, ListPartsOutput, MultipartUpload, PutObjectInput, PutObjectOutput, UploadPartInput,
    UploadPartOutput,
};
use s3s::{S3, S3Request, S3Response, S3Result};

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
        let fs = Store { fs: s3s_fs::FileSystem::new(&root).expect("s3s-fs"), root: root.clone() };
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

/// s3s-fs, with `ListMultipartUploads`.
struct Store {
    fs: s3s_fs::FileSystem,
    root: PathBuf,
}

impl Store {
    /// The open uploads of `bucket`: s3s-fs keeps `.upload-<id>.json` until an upload is
    /// completed or aborted, and the key in `.bucket-<b64>.object-<b64>.upload-<id>.metadata.json`.
    fn open_uploads(root: &Path, bucket: &str) -> std::io::Result<Vec<MultipartUpload>> {
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let prefix = format!(".bucket-{}.object-", b64.encode(bucket));
        let mut uploads = Vec::new();
        for entry in std::fs::read_dir(root)? {
            let name = entry?.file_name().to_string_lossy().into_owned();
            let Some(rest) = name.strip_prefix(&prefix).and_then(|r| r.strip_suffix(".metadata.json")) else {
                continue;
            };
            let Some((key, id)) = rest.split_once(".upload-") else { continue };
            let Ok(started) = std::fs::metadata(root.join(format!(".upload-{id}.json"))).and_then(|m| m.modified())
            else {
                continue;
            };
            let Ok(key) = b64.decode(key) else { continue };
            uploads.push(MultipartUpload {
                key: Some(String::from_utf8_lossy(&key).into_owned()),
                upload_id: Some(id.to_owned()),
                initiated: Some(started.into()),
                ..Default::default()
            });
        }
        Ok(uploads)
    }
}

#[async_trait::async_trait]
impl S3 for Store {
    async fn list_multipart_uploads(
        &self,
        req: S3Request<ListMultipartUploadsInput>,
    ) -> S3Result<S3Response<ListMultipartUploadsOutput>> {
        let uploads =
            Self::open_uploads(&self.root, &req.input.bucket).map_err(|e| s3s::s3_error!(e, InternalError))?;
        Ok(S3Response::new(ListMultipartUploadsOutput {
            bucket: Some(req.input.bucket),
            uploads: Some(uploads),
            is_truncated: Some(false),
            ..Default::default()
        }))
    }

    async fn put_object(&self, req: S3Request<PutObjectInput>) -> S3Result<S3Response<PutObjectOutput>> {
        self.fs.put_object(req).await
    }

    async fn get_object(&self, req: S3Request<GetObjectInput>) -> S3Result<S3Response<GetObjectOutput>> {
        self.fs.get_object(req).await
    }

    async fn head_object(&self, req: S3Request<HeadObjectInput>) -> S3Result<S3Response<HeadObjectOutput>> {
        self.fs.head_object(req).await
    }

    async fn delete_object(&self, req: S3Request<DeleteObjectInput>) -> S3Result<S3Response<DeleteObjectOutput>> {
        self.fs.delete_object(req).await
    }

    async fn create_multipart_upload(
        &self,
        req: S3Request<CreateMultipartUploadInput>,
    ) -> S3Result<S3Response<CreateMultipartUploadOutput>> {
        self.fs.create_multipart_upload(req).await
    }

    async fn upload_part(&self, req: S3Request<UploadPartInput>) -> S3Result<S3Response<UploadPartOutput>> {
        self.fs.upload_part(req).await
    }

    async fn list_parts(&self, req: S3Request<ListPartsInput>) -> S3Result<S3Response<ListPartsOutput>> {
        self.fs.list_parts(req).await
    }

    async fn complete_multipart_upload(
        &self,
        req: S3Request<CompleteMultipartUploadInput>,
    ) -> S3Result<S3Response<CompleteMultipartUploadOutput>> {
        self.fs.complete_multipart_upload(req).await
    }

    async fn abort_multipart_upload(
        &self,
        req: S3Request<AbortMultipartUploadInput>,
    ) -> S3Result<S3Response<AbortMultipartUploadOutput>> {
        self.fs.abort_multipart_upload(req).await
    }
}
