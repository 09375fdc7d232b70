//! The same behaviour from both backends: the local directory and an S3-compatible server
//! (moto, started per test).

use bytes::Bytes;
use futures::{StreamExt, TryStreamExt, stream};
use parley_media::{MediaStorage, S3Config, StorageError};
use parley_testkit::s3::{BUCKET, S3Server};

/// A backend and whatever keeps it alive for the test.
struct Backend {
    storage: MediaStorage,
    _keep: Box<dyn std::any::Any>,
}

fn local() -> Backend {
    let dir = tempfile::tempdir().expect("temp dir");
    Backend {
        storage: MediaStorage::local(dir.path()).expect("local storage"),
        _keep: Box::new(dir),
    }
}

fn s3() -> Backend {
    let server = S3Server::start().expect("an S3-compatible server (see scripts/test)");
    let storage = MediaStorage::s3(&S3Config {
        endpoint: server.endpoint(),
        bucket: BUCKET.into(),
        region: "us-east-1".into(),
        access_key_id: "test".into(),
        secret_access_key: "test".into(),
        path_style: true,
    })
    .expect("s3 storage");
    Backend {
        storage,
        _keep: Box::new(server),
    }
}

/// `size` bytes in 64 KiB chunks, each byte its offset mod 251 so ranges are checkable.
fn chunks(size: usize) -> impl futures::Stream<Item = Result<Bytes, std::io::Error>> {
    let data: Vec<u8> = (0..size).map(|i| (i % 251) as u8).collect();
    let parts: Vec<Result<Bytes, std::io::Error>> = data
        .chunks(64 * 1024)
        .map(|c| Ok(Bytes::copy_from_slice(c)))
        .collect();
    stream::iter(parts)
}

async fn body(file: parley_media::StoredFile) -> Vec<u8> {
    let parts: Vec<Bytes> = file.body.try_collect().await.expect("read back");
    parts.concat()
}

async fn a_file_is_written_in_parts_and_read_back_whole_and_by_range(b: Backend) {
    // Larger than one 5 MiB multipart part, so S3 really assembles parts.
    let size = 6 * 1024 * 1024 + 123;
    let written = b
        .storage
        .put("files/a.bin", chunks(size), 10 * 1024 * 1024)
        .await
        .expect("stored");
    assert_eq!(written, size as u64);
    assert_eq!(b.storage.size("files/a.bin").await.unwrap(), size as u64);

    let whole = b.storage.get("files/a.bin", None).await.unwrap();
    assert_eq!(whole.size, size as u64);
    let bytes = body(whole).await;
    assert_eq!(bytes.len(), size);
    assert!(bytes.iter().enumerate().all(|(i, v)| *v == (i % 251) as u8));

    let part = b
        .storage
        .get("files/a.bin", Some(5_000_000..5_000_010))
        .await
        .unwrap();
    assert_eq!(part.range, 5_000_000..5_000_010);
    let expected: Vec<u8> = (5_000_000..5_000_010).map(|i| (i % 251) as u8).collect();
    assert_eq!(body(part).await, expected);
}

async fn a_write_over_the_limit_leaves_nothing_behind(b: Backend) {
    let err = b
        .storage
        .put("files/big.bin", chunks(300 * 1024), 200 * 1024)
        .await
        .expect_err("too large");
    assert!(matches!(err, StorageError::TooLarge { limit } if limit == 200 * 1024));
    assert!(matches!(
        b.storage.get("files/big.bin", None).await,
        Err(StorageError::NotFound)
    ));
}

async fn a_failing_source_leaves_nothing_behind(b: Backend) {
    let broken = chunks(100 * 1024).chain(stream::iter([Err(std::io::Error::other(
        "client went away",
    ))]));
    let err = b
        .storage
        .put("files/cut.bin", broken, 1024 * 1024)
        .await
        .expect_err("source failed");
    assert!(matches!(err, StorageError::Source(_)), "{err}");
    assert!(matches!(
        b.storage.size("files/cut.bin").await,
        Err(StorageError::NotFound)
    ));
}

async fn deleting_removes_and_is_idempotent(b: Backend) {
    b.storage
        .put("exports/x.csv.gz", chunks(10), 100)
        .await
        .unwrap();
    assert_eq!(b.storage.read("exports/x.csv.gz").await.unwrap().len(), 10);
    b.storage.delete("exports/x.csv.gz").await.unwrap();
    b.storage.delete("exports/x.csv.gz").await.unwrap();
    assert!(matches!(
        b.storage.read("exports/x.csv.gz").await,
        Err(StorageError::NotFound)
    ));
}

macro_rules! on_each_backend {
    ($($name:ident),* $(,)?) => {
        mod local_dir {
            $(#[tokio::test]
            async fn $name() { super::$name(super::local()).await })*
        }
        mod s3_server {
            $(#[tokio::test]
            async fn $name() { super::$name(super::s3()).await })*
        }
    };
}

on_each_backend!(
    a_file_is_written_in_parts_and_read_back_whole_and_by_range,
    a_write_over_the_limit_leaves_nothing_behind,
    a_failing_source_leaves_nothing_behind,
    deleting_removes_and_is_idempotent,
);
