//! Blobs in an S3 bucket (AWS or an S3-compatible store). A body that fits in one part goes
//! up with one `PutObject`; a larger one as a multipart upload of [`PART_SIZE`] parts, which
//! is aborted when the body breaks off or exceeds the limit, so no half object remains. A
//! process that dies mid-upload cannot abort; [`S3Store::abort_stale_uploads`] does it later.

use std::time::SystemTime;

use anyhow::anyhow;
use aws_sdk_s3::Client;
use aws_sdk_s3::config::{
    BehaviorVersion, Credentials, Region, RequestChecksumCalculation, ResponseChecksumValidation,
};
use aws_sdk_s3::error::DisplayErrorContext;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart, MultipartUpload};
use aws_smithy_types::DateTime;
use bytes::{Bytes, BytesMut};
use futures_util::StreamExt;
use sha2::{Digest, Sha256};

use crate::meter::Meter;
use crate::{BlobError, BlobStream, PART_SIZE, Stored};

#[derive(Debug, Clone)]
pub struct S3Store {
    client: Client,
    bucket: String,
}

/// A multipart upload in progress.
struct Multipart {
    id: String,
    parts: Vec<CompletedPart>,
}

fn backend(what: &str, error: impl std::error::Error) -> BlobError {
    BlobError::Backend(anyhow!("{what}: {}", DisplayErrorContext(error)))
}

impl S3Store {
    pub fn new(
        bucket: &str,
        region: &str,
        endpoint: Option<&str>,
        credentials: Option<(String, String)>,
        path_style: bool,
    ) -> Self {
        let mut config = aws_sdk_s3::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(region.to_owned()))
            .force_path_style(path_style)
            // Checksums only where S3 demands them: S3-compatible stores vary in support.
            .request_checksum_calculation(RequestChecksumCalculation::WhenRequired)
            .response_checksum_validation(ResponseChecksumValidation::WhenRequired);
        if let Some(endpoint) = endpoint {
            config = config.endpoint_url(endpoint);
        }
        if let Some((key_id, secret)) = credentials {
            config = config.credentials_provider(Credentials::new(key_id, secret, None, None, "vestibule"));
        }
        Self { client: Client::from_conf(config.build()), bucket: bucket.to_owned() }
    }

    pub async fn put<S, E>(&self, key: &str, mut body: S, limit: u64) -> Result<Stored, BlobError>
    where
        S: futures_util::Stream<Item = Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        let mut meter = Meter::new(limit);
        let mut digest = Sha256::new();
        let mut buffer = BytesMut::new();
        let mut upload: Option<Multipart> = None;
        let sent = async {
            while let Some(chunk) = body.next().await {
                let chunk = chunk.map_err(|e| BlobError::Interrupted(e.to_string()))?;
                meter.add(&chunk)?;
                digest.update(&chunk);
                buffer.extend_from_slice(&chunk);
                while buffer.len() >= PART_SIZE {
                    let part = buffer.split_to(PART_SIZE).freeze();
                    self.send_part(key, &mut upload, part).await?;
                }
            }
            let rest = buffer.split().freeze();
            if upload.is_none() {
                self.client
                    .put_object()
                    .bucket(&self.bucket)
                    .key(key)
                    .body(ByteStream::from(rest))
                    .send()
                    .await
                    .map_err(|e| backend("putting a blob", e))?;
                return Ok(());
            }
            if !rest.is_empty() {
                self.send_part(key, &mut upload, rest).await?;
            }
            let Some(done) = &upload else { return Ok(()) };
            self.client
                .complete_multipart_upload()
                .bucket(&self.bucket)
                .key(key)
                .upload_id(&done.id)
                .multipart_upload(CompletedMultipartUpload::builder().set_parts(Some(done.parts.clone())).build())
                .send()
                .await
                .map_err(|e| backend("completing a multipart upload", e))?;
            Ok(())
        }
        .await;
        if let Err(error) = sent {
            if let Some(started) = upload {
                let aborted = self
                    .client
                    .abort_multipart_upload()
                    .bucket(&self.bucket)
                    .key(key)
                    .upload_id(&started.id)
                    .send()
                    .await;
                if let Err(abort_error) = aborted {
                    tracing::warn!(error = %DisplayErrorContext(&abort_error), key, "aborting a multipart upload failed");
                }
            }
            return Err(error);
        }
        Ok(meter.finish(digest))
    }

    async fn send_part(&self, key: &str, upload: &mut Option<Multipart>, part: Bytes) -> Result<(), BlobError> {
        if upload.is_none() {
            let created = self
                .client
                .create_multipart_upload()
                .bucket(&self.bucket)
                .key(key)
                .send()
                .await
                .map_err(|e| backend("starting a multipart upload", e))?;
            let id = created.upload_id.ok_or_else(|| BlobError::Backend(anyhow!("the store gave no upload id")))?;
            *upload = Some(Multipart { id, parts: Vec::new() });
        }
        let Some(current) = upload.as_mut() else { return Ok(()) };
        let number = i32::try_from(current.parts.len() + 1).unwrap_or(i32::MAX);
        let sent = self
            .client
            .upload_part()
            .bucket(&self.bucket)
            .key(key)
            .upload_id(&current.id)
            .part_number(number)
            .body(ByteStream::from(part))
            .send()
            .await
            .map_err(|e| backend("uploading a part", e))?;
        current.parts.push(CompletedPart::builder().set_e_tag(sent.e_tag).part_number(number).build());
        Ok(())
    }

    /// Aborts the multipart uploads of our keys that nothing has added a part to since
    /// `cutoff` (nor started since); returns how many. A live upload sends a part every
    /// [`PART_SIZE`] bytes, so the newest part's time says whether anyone still writes it.
    pub async fn abort_stale_uploads(&self, cutoff: SystemTime) -> Result<usize, BlobError> {
        let cutoff = DateTime::from(cutoff);
        let mut aborted = 0;
        let (mut key_marker, mut id_marker) = (None, None);
        loop {
            let page = self
                .client
                .list_multipart_uploads()
                .bucket(&self.bucket)
                .set_key_marker(key_marker.take())
                .set_upload_id_marker(id_marker.take())
                .send()
                .await
                .map_err(|e| backend("listing multipart uploads", e))?;
            for upload in page.uploads() {
                if self.is_stale(upload, &cutoff).await? && self.abort(upload).await? {
                    aborted += 1;
                }
            }
            if !page.is_truncated().unwrap_or(false) {
                return Ok(aborted);
            }
            key_marker = page.next_key_marker().map(str::to_owned);
            id_marker = page.next_upload_id_marker().map(str::to_owned);
            if key_marker.is_none() && id_marker.is_none() {
                return Ok(aborted);
            }
        }
    }

    /// Whether `upload` is one of ours that neither started nor got a part since `cutoff`.
    async fn is_stale(&self, upload: &MultipartUpload, cutoff: &DateTime) -> Result<bool, BlobError> {
        let (Some(key), Some(id)) = (upload.key(), upload.upload_id()) else { return Ok(false) };
        // Keys of another application sharing the bucket are not ours to abort.
        if crate::check_key(key).is_err() || upload.initiated().is_none_or(|started| started >= cutoff) {
            return Ok(false);
        }
        let mut marker = None;
        loop {
            let page = self
                .client
                .list_parts()
                .bucket(&self.bucket)
                .key(key)
                .upload_id(id)
                .set_part_number_marker(marker.take())
                .send()
                .await
                .map_err(|e| backend("listing the parts of a multipart upload", e))?;
            if page.parts().iter().any(|part| part.last_modified().is_some_and(|at| at >= cutoff)) {
                return Ok(false);
            }
            marker = page.next_part_number_marker().map(str::to_owned);
            if !page.is_truncated().unwrap_or(false) || marker.is_none() {
                return Ok(true);
            }
        }
    }

    /// Aborts `upload`; false when it had ended already (another instance's sweep, or done).
    async fn abort(&self, upload: &MultipartUpload) -> Result<bool, BlobError> {
        let aborted = self
            .client
            .abort_multipart_upload()
            .bucket(&self.bucket)
            .set_key(upload.key().map(str::to_owned))
            .set_upload_id(upload.upload_id().map(str::to_owned))
            .send()
            .await;
        match aborted {
            Ok(_) => Ok(true),
            Err(error) if error.as_service_error().is_some_and(|e| e.is_no_such_upload()) => Ok(false),
            Err(error) => Err(backend("aborting a multipart upload", error)),
        }
    }

    pub async fn read(&self, key: &str, range: Option<(u64, u64)>) -> Result<BlobStream, BlobError> {
        let mut request = self.client.get_object().bucket(&self.bucket).key(key);
        if let Some((first, last)) = range {
            request = request.range(format!("bytes={first}-{last}"));
        }
        let output = request.send().await.map_err(|error| {
            if error.as_service_error().is_some_and(|e| e.is_no_such_key()) {
                BlobError::NotFound
            } else {
                backend("reading a blob", error)
            }
        })?;
        let chunks = futures_util::stream::unfold(Some(output.body), |body| async move {
            let mut body = body?;
            match body.try_next().await {
                Ok(Some(bytes)) => Some((Ok(bytes), Some(body))),
                Ok(None) => None,
                Err(error) => Some((Err(std::io::Error::other(error)), None)),
            }
        });
        Ok(chunks.boxed())
    }

    pub async fn delete(&self, key: &str) -> Result<(), BlobError> {
        self.client
            .delete_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .map_err(|e| backend("deleting a blob", e))?;
        Ok(())
    }
}
