//! "Download All": a ZIP archive written while it is sent. Entries are stored (documents
//! are mostly compressed formats already), each one's CRC-32 is computed on the way through
//! and follows its data in a data descriptor, so nothing is buffered beyond one chunk.
//! ZIP64 records are added only where a size, offset or count needs them.

use std::collections::HashSet;

use actix_web::web::Bytes;
use futures_util::StreamExt;
use tokio::sync::mpsc;
use vestibule_blobs::BlobStore;

/// One file of the archive.
#[derive(Debug, Clone)]
pub struct Entry {
    pub name: String,
    pub blob_key: String,
    pub size: u64,
}

const LOCAL_HEADER: u32 = 0x0403_4b50;
const DATA_DESCRIPTOR: u32 = 0x0807_4b50;
const CENTRAL_HEADER: u32 = 0x0201_4b50;
const END_OF_CENTRAL: u32 = 0x0605_4b50;
const ZIP64_END: u32 = 0x0606_4b50;
const ZIP64_LOCATOR: u32 = 0x0706_4b50;
/// Sizes and CRC follow the data; names are UTF-8.
const FLAGS: u16 = 0x0808;
const LIMIT32: u64 = 0xFFFF_FFFF;

/// What the central directory needs of a written entry.
struct Written {
    name: Vec<u8>,
    crc: u32,
    size: u64,
    offset: u64,
}

/// Makes names unique within the archive: `a.pdf`, `a (2).pdf`, …
fn unique_names(entries: &mut [Entry]) {
    let mut seen = HashSet::new();
    for entry in entries {
        let (stem, extension) = match entry.name.rsplit_once('.') {
            Some((stem, ext)) if !stem.is_empty() => (stem.to_owned(), format!(".{ext}")),
            _ => (entry.name.clone(), String::new()),
        };
        let mut candidate = entry.name.clone();
        let mut n = 2;
        while !seen.insert(candidate.to_lowercase()) {
            candidate = format!("{stem} ({n}){extension}");
            n += 1;
        }
        entry.name = candidate;
    }
}

fn dos_time_and_date() -> (u16, u16) {
    use chrono::{Datelike, Timelike};
    let now = chrono::Utc::now();
    let time = (now.hour() << 11) | (now.minute() << 5) | (now.second() / 2);
    let year = u32::try_from(now.year().clamp(1980, 2107) - 1980).unwrap_or(0);
    let date = (year << 9) | (now.month() << 5) | now.day();
    (u16::try_from(time).unwrap_or(0), u16::try_from(date).unwrap_or(0))
}

struct Out {
    tx: mpsc::Sender<Result<Bytes, std::io::Error>>,
    offset: u64,
}

impl Out {
    async fn send(&mut self, bytes: Vec<u8>) -> bool {
        self.offset += bytes.len() as u64;
        self.tx.send(Ok(Bytes::from(bytes))).await.is_ok()
    }
}

/// Streams the archive of `entries`. A failure to read a blob ends the stream with an
/// error, so the client sees a broken download rather than a silently short archive.
pub fn archive(
    blobs: BlobStore,
    mut entries: Vec<Entry>,
) -> impl futures_util::Stream<Item = Result<Bytes, std::io::Error>> {
    unique_names(&mut entries);
    let (tx, rx) = mpsc::channel(8);
    tokio::spawn(async move {
        let failed = tx.clone();
        if let Err(error) = write(&blobs, entries, Out { tx, offset: 0 }).await {
            let _ = failed.send(Err(error)).await;
        }
    });
    futures_util::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|item| (item, rx)) })
}

async fn write(blobs: &BlobStore, entries: Vec<Entry>, mut out: Out) -> Result<(), std::io::Error> {
    let (time, date) = dos_time_and_date();
    let mut written = Vec::with_capacity(entries.len());
    for entry in entries {
        let offset = out.offset;
        let name = entry.name.into_bytes();
        let large = entry.size >= LIMIT32;
        let mut header = Vec::with_capacity(30 + name.len() + 20);
        header.extend_from_slice(&LOCAL_HEADER.to_le_bytes());
        header.extend_from_slice(&(if large { 45_u16 } else { 20 }).to_le_bytes());
        header.extend_from_slice(&FLAGS.to_le_bytes());
        header.extend_from_slice(&0_u16.to_le_bytes());
        header.extend_from_slice(&time.to_le_bytes());
        header.extend_from_slice(&date.to_le_bytes());
        header.extend_from_slice(&[0; 12]);
        header.extend_from_slice(&(name.len() as u16).to_le_bytes());
        header.extend_from_slice(&(if large { 20_u16 } else { 0 }).to_le_bytes());
        header.extend_from_slice(&name);
        if large {
            // A ZIP64 field announces 8-byte sizes in the data descriptor.
            header.extend_from_slice(&1_u16.to_le_bytes());
            header.extend_from_slice(&16_u16.to_le_bytes());
            header.extend_from_slice(&[0; 16]);
        }
        if !out.send(header).await {
            return Ok(());
        }
        let mut crc = crc32fast::Hasher::new();
        let mut size = 0_u64;
        if entry.size > 0 {
            let mut data = blobs.read(&entry.blob_key, None).await.map_err(std::io::Error::other)?;
            while let Some(chunk) = data.next().await {
                let chunk = chunk?;
                crc.update(&chunk);
                size += chunk.len() as u64;
                out.offset += chunk.len() as u64;
                if out.tx.send(Ok(chunk)).await.is_err() {
                    return Ok(());
                }
            }
        }
        if size != entry.size {
            return Err(std::io::Error::other(format!("a stored file has {size} bytes, not {}", entry.size)));
        }
        let crc = crc.finalize();
        let mut descriptor = Vec::with_capacity(24);
        descriptor.extend_from_slice(&DATA_DESCRIPTOR.to_le_bytes());
        descriptor.extend_from_slice(&crc.to_le_bytes());
        if large {
            descriptor.extend_from_slice(&size.to_le_bytes());
            descriptor.extend_from_slice(&size.to_le_bytes());
        } else {
            descriptor.extend_from_slice(&(size as u32).to_le_bytes());
            descriptor.extend_from_slice(&(size as u32).to_le_bytes());
        }
        if !out.send(descriptor).await {
            return Ok(());
        }
        written.push(Written { name, crc, size, offset });
    }
    let directory_start = out.offset;
    for file in &written {
        let mut extra = Vec::new();
        if file.size >= LIMIT32 {
            extra.extend_from_slice(&file.size.to_le_bytes());
            extra.extend_from_slice(&file.size.to_le_bytes());
        }
        if file.offset >= LIMIT32 {
            extra.extend_from_slice(&file.offset.to_le_bytes());
        }
        let zip64 = !extra.is_empty();
        let mut record = Vec::with_capacity(46 + file.name.len() + 4 + extra.len());
        record.extend_from_slice(&CENTRAL_HEADER.to_le_bytes());
        record.extend_from_slice(&(if zip64 { 45_u16 } else { 20 }).to_le_bytes());
        record.extend_from_slice(&(if zip64 { 45_u16 } else { 20 }).to_le_bytes());
        record.extend_from_slice(&FLAGS.to_le_bytes());
        record.extend_from_slice(&0_u16.to_le_bytes());
        record.extend_from_slice(&time.to_le_bytes());
        record.extend_from_slice(&date.to_le_bytes());
        record.extend_from_slice(&file.crc.to_le_bytes());
        let size32 = if file.size >= LIMIT32 { LIMIT32 } else { file.size } as u32;
        record.extend_from_slice(&size32.to_le_bytes());
        record.extend_from_slice(&size32.to_le_bytes());
        record.extend_from_slice(&(file.name.len() as u16).to_le_bytes());
        record.extend_from_slice(&(if zip64 { extra.len() as u16 + 4 } else { 0 }).to_le_bytes());
        // Comment length, disk number, internal and external attributes.
        record.extend_from_slice(&[0; 10]);
        let offset32 = if file.offset >= LIMIT32 { LIMIT32 } else { file.offset } as u32;
        record.extend_from_slice(&offset32.to_le_bytes());
        record.extend_from_slice(&file.name);
        if zip64 {
            record.extend_from_slice(&1_u16.to_le_bytes());
            record.extend_from_slice(&(extra.len() as u16).to_le_bytes());
            record.extend_from_slice(&extra);
        }
        if !out.send(record).await {
            return Ok(());
        }
    }
    let directory_size = out.offset - directory_start;
    let count = written.len() as u64;
    let mut end = Vec::with_capacity(98);
    let zip64 = count >= 0xFFFF || directory_start >= LIMIT32 || directory_size >= LIMIT32;
    if zip64 {
        let zip64_end_at = out.offset;
        end.extend_from_slice(&ZIP64_END.to_le_bytes());
        end.extend_from_slice(&44_u64.to_le_bytes());
        end.extend_from_slice(&45_u16.to_le_bytes());
        end.extend_from_slice(&45_u16.to_le_bytes());
        end.extend_from_slice(&[0; 8]);
        end.extend_from_slice(&count.to_le_bytes());
        end.extend_from_slice(&count.to_le_bytes());
        end.extend_from_slice(&directory_size.to_le_bytes());
        end.extend_from_slice(&directory_start.to_le_bytes());
        end.extend_from_slice(&ZIP64_LOCATOR.to_le_bytes());
        end.extend_from_slice(&0_u32.to_le_bytes());
        end.extend_from_slice(&zip64_end_at.to_le_bytes());
        end.extend_from_slice(&1_u32.to_le_bytes());
    }
    end.extend_from_slice(&END_OF_CENTRAL.to_le_bytes());
    end.extend_from_slice(&[0; 4]);
    let count16 = count.min(0xFFFF) as u16;
    end.extend_from_slice(&count16.to_le_bytes());
    end.extend_from_slice(&count16.to_le_bytes());
    end.extend_from_slice(&(directory_size.min(LIMIT32) as u32).to_le_bytes());
    end.extend_from_slice(&(directory_start.min(LIMIT32) as u32).to_le_bytes());
    end.extend_from_slice(&0_u16.to_le_bytes());
    out.send(end).await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicate_names_get_a_number() {
        let entry = |name: &str| Entry { name: name.to_owned(), blob_key: String::new(), size: 0 };
        let mut entries = vec![entry("a.pdf"), entry("A.pdf"), entry("a.pdf"), entry("notes")];
        unique_names(&mut entries);
        let names: Vec<&str> = entries.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, vec!["a.pdf", "A (2).pdf", "a (3).pdf", "notes"]);
    }
}
