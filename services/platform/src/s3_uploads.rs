//! Whether an S3 multipart upload still exists, from the bucket's own listing.
//!
//! `AbortMultipartUpload` on an upload that is already gone is answered with 404 `NoSuchUpload`
//! by AWS, but with other statuses by some S3-compatible servers (s3s-fs: 403 `AccessDenied`).
//! A 403 may just as well mean that our credentials may not abort, in which case the upload and
//! its parts are still there and still billed. So a failed abort is not taken at its word: the
//! bucket's `ListMultipartUploads` under the upload's exact key decides. An id that the complete
//! listing does not hold is gone for good (S3 never reuses upload ids, and the listing is
//! strongly consistent); an id it holds, a truncated listing, or a listing the server refuses
//! (s3s-fs does not implement it) confirm nothing, and the failure stands.
//!
//! object_store has no call for this listing, so the request is signed with its `Signer`
//! (a presigned URL, valid for a minute) and sent with its HTTP client.

use std::time::Duration;

use object_store::aws::AmazonS3;
use object_store::client::{HttpClient, HttpRequestBody};
use object_store::path::Path as ObjectPath;
use object_store::signer::{SignedUrlOptions, Signer};

/// Whether the listing of multipart uploads under `path` (the full key) holds `id`:
/// `Ok(false)` only when the whole listing was read and the id is not in it; `Err` says why
/// nothing could be confirmed.
pub(crate) async fn upload_listed(
    s3: &AmazonS3,
    http: &HttpClient,
    path: &ObjectPath,
    id: &str,
) -> Result<bool, String> {
    let options = SignedUrlOptions::new().with_query([("prefix", path.as_ref()), ("uploads", "")]);
    let url = s3
        .signed_url_opts(
            http::Method::GET,
            &ObjectPath::from(""),
            Duration::from_secs(60),
            &options,
        )
        .await
        .map_err(|e| format!("cannot sign the listing of multipart uploads: {e}"))?;
    let request = http::Request::get(url.as_str())
        .body(HttpRequestBody::empty())
        .map_err(|e| format!("cannot build the listing of multipart uploads: {e}"))?;
    let response = http
        .execute(request)
        .await
        .map_err(|e| format!("listing multipart uploads failed: {e}"))?;
    let status = response.status();
    if !status.is_success() {
        return Err(format!(
            "the store refused to list multipart uploads (HTTP {})",
            status.as_u16()
        ));
    }
    let body = response
        .into_body()
        .bytes()
        .await
        .map_err(|e| format!("listing multipart uploads failed: {e}"))?;
    let body = std::str::from_utf8(&body)
        .map_err(|_| "the listing of multipart uploads is not UTF-8".to_owned())?;
    let listing = Listing::parse(body)?;
    if listing.ids.iter().any(|listed| listed == id) {
        return Ok(true);
    }
    if listing.truncated {
        return Err("the listing of multipart uploads is truncated".to_owned());
    }
    Ok(false)
}

/// What a `ListMultipartUploadsResult` says: the upload ids, and whether more follow.
#[derive(Debug, PartialEq, Eq)]
struct Listing {
    ids: Vec<String>,
    truncated: bool,
}

impl Listing {
    /// The document is flat and machine-written; the elements read here hold text only.
    fn parse(xml: &str) -> Result<Listing, String> {
        if !xml.contains("<ListMultipartUploadsResult") {
            return Err("the store's answer is not a listing of multipart uploads".to_owned());
        }
        Ok(Listing {
            ids: texts(xml, "UploadId").map(unescape).collect(),
            truncated: texts(xml, "IsTruncated").any(|t| t.trim() == "true"),
        })
    }
}

/// The texts of every `<name>…</name>` element.
fn texts<'a>(xml: &'a str, name: &str) -> impl Iterator<Item = &'a str> {
    let open = format!("<{name}>");
    let close = format!("</{name}>");
    let mut rest = xml;
    std::iter::from_fn(move || {
        let start = rest.find(&open)? + open.len();
        let len = rest[start..].find(&close)?;
        let text = &rest[start..start + len];
        rest = &rest[start + len + close.len()..];
        Some(text)
    })
}

fn unescape(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_ids_and_truncation() {
        let xml = r#"<?xml version="1.0" encoding="UTF-8"?>
<ListMultipartUploadsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Bucket>b</Bucket><Prefix>p/documents/k</Prefix><IsTruncated>false</IsTruncated>
  <Upload><Key>p/documents/k</Key><UploadId>a.b-c&amp;d</UploadId></Upload>
  <Upload><Key>p/documents/k</Key><UploadId>second</UploadId></Upload>
</ListMultipartUploadsResult>"#;
        assert_eq!(
            Listing::parse(xml),
            Ok(Listing {
                ids: vec!["a.b-c&d".into(), "second".into()],
                truncated: false
            })
        );
        let empty = "<ListMultipartUploadsResult><IsTruncated>true</IsTruncated></ListMultipartUploadsResult>";
        assert_eq!(
            Listing::parse(empty),
            Ok(Listing {
                ids: vec![],
                truncated: true
            })
        );
        assert!(Listing::parse("<Error><Code>NotImplemented</Code></Error>").is_err());
    }
}

/// Against a server that implements `ListMultipartUploads` (s3s-fs, the usual test server, does
/// not): `moto_server -H 127.0.0.1 -p 5057`, then
/// `TEST_EXTRANET_MOTO_ENDPOINT=http://127.0.0.1:5057 cargo test -p extranet-platform -- --ignored listing`.
#[cfg(test)]
mod against_a_server {
    use std::time::Duration;

    use object_store::multipart::MultipartStore;

    use super::*;
    use crate::objects::{Kind, Objects, S3Options, StorageOptions};

    #[tokio::test]
    #[ignore = "needs an S3 server with ListMultipartUploads (moto_server)"]
    async fn listing_tells_a_live_upload_from_a_gone_one() -> anyhow::Result<()> {
        let endpoint = std::env::var("TEST_EXTRANET_MOTO_ENDPOINT")?;
        let bucket = format!("b{}", uuid::Uuid::new_v4().simple());
        // moto creates a bucket on a plain PUT.
        let created = create_bucket(&format!("{endpoint}/{bucket}")).await?;
        anyhow::ensure!(created < 300, "bucket not created: {created}");
        let objects = Objects::connect(&StorageOptions::S3(S3Options {
            endpoint: Some(endpoint),
            bucket,
            region: "us-east-1".into(),
            access_key_id: "k".into(),
            secret_access_key: "s".into(),
            allow_http: true,
            virtual_hosted_style: false,
            request_timeout: Duration::from_secs(10),
            prefix: Some("inst".into()),
        }))
        .await?;
        let Kind::S3 { s3, prefix, http } = objects.kind() else {
            anyhow::bail!("not S3")
        };
        let path = Kind::s3_path(prefix, &ObjectPath::from("documents/k"));
        let id = s3.create_multipart(&path).await?;
        assert_eq!(upload_listed(s3, http, &path, &id).await, Ok(true));
        s3.abort_multipart(&path, &id).await?;
        assert_eq!(upload_listed(s3, http, &path, &id).await, Ok(false));
        objects.discard("documents/k", Some(&id)).await?;
        Ok(())
    }

    async fn create_bucket(url: &str) -> anyhow::Result<u16> {
        let out = tokio::process::Command::new("curl")
            .args([
                "-s",
                "-o",
                "/dev/null",
                "-w",
                "%{http_code}",
                "-X",
                "PUT",
                url,
            ])
            .output()
            .await?;
        Ok(String::from_utf8(out.stdout)?.parse()?)
    }
}
