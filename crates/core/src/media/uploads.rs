//! Media Parley hosts goes to WhatsApp by id, not by link: the file is uploaded once per
//! business number (`POST /{phone-number-id}/media`) and the id reused for every send
//! of it while Meta keeps it. WhatsApp then never has to reach Parley's public URL, which
//! a self-hosted install behind a firewall may not offer, and a file sent to a thousand
//! users is transferred once instead of a thousand times.
//!
//! A URL Parley did not hand out (the customer's own) still goes as a link. So does a
//! Parley file whose upload failed: the send is not held back for it.

use std::sync::Arc;

use chrono::Duration;
use futures::{StreamExt, TryStreamExt};
use parley_channels::{ChannelAdapter, ChannelRoute, MediaUpload, OutboundContent};

use parley_types::SharedClock;

use crate::cache::TtlCache;
use crate::media::FileHosting;

/// Meta deletes uploaded media after 30 days; a day's margin keeps a send from naming an
/// id that just expired.
const MEDIA_ID_TTL: Duration = Duration::days(29);

/// Uploads hosted files to the provider and remembers their ids per number.
pub struct MediaUploads {
    files: FileHosting,
    adapter: Arc<dyn ChannelAdapter>,
    /// `(file name, phone number id)` → the provider's media id.
    ids: TtlCache<(String, String), String>,
}

impl MediaUploads {
    pub fn new(files: FileHosting, adapter: Arc<dyn ChannelAdapter>, clock: SharedClock) -> Self {
        Self {
            files,
            adapter,
            ids: TtlCache::new(MEDIA_ID_TTL, clock),
        }
    }

    /// Names the provider's media id in a media message whose URL is a Parley file,
    /// uploading the file first if this number has not had it yet.
    pub async fn attach_id(&self, route: &ChannelRoute, content: &mut OutboundContent) {
        let OutboundContent::Media { url, media_id, .. } = content else {
            return;
        };
        if media_id.is_some() {
            return;
        }
        match self.provider_id(route, url).await {
            Ok(id) => *media_id = id,
            Err(e) => {
                tracing::warn!(url = %url, error = %e, "uploading media to WhatsApp failed; sending the link");
            }
        }
    }

    /// The provider's id for the Parley file at `url`; `None` for any other URL.
    async fn provider_id(&self, route: &ChannelRoute, url: &str) -> Result<Option<String>, String> {
        let Some(file) = self.files.resolve(url).await.map_err(|e| e.to_string())? else {
            return Ok(None);
        };
        let key = (file.file_name.clone(), route.phone_number_id.clone());
        self.ids
            .get_or_load(&key, || async {
                let stored = self
                    .files
                    .read(&file, None)
                    .await
                    .map_err(|e| e.to_string())?;
                let upload = MediaUpload {
                    file_name: file.file_name.clone(),
                    mime_type: file.mime.clone(),
                    size: stored.size,
                    body: stored.body.map_err(|e| e.to_string()).boxed(),
                };
                let id = self
                    .adapter
                    .upload_media(route, upload)
                    .await
                    .map_err(|e| format!("{} {}", e.code, e.title))?;
                Ok(Some(id))
            })
            .await
    }
}
