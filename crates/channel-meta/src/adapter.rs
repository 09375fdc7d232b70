use std::time::Duration;

use async_trait::async_trait;
use futures::{StreamExt, TryStreamExt};
use parley_channels::{
    ChannelAdapter, ChannelRoute, MediaDownload, MediaKind, MediaUpload, OutboundContent,
    OutboundMessage, ProviderError, SendOutcome, SubmittedTemplate, TemplateCategory, TemplateSpec,
};
use reqwest::multipart;
use serde::Deserialize;

use crate::wire::{
    ContextRef, ErrorBody, MediaRef, SendRequest, SendResponse, Text, TypingIndicator,
};

/// Where the adapter sends Graph requests and how it authenticates both ways.
#[derive(Debug, Clone)]
pub struct MetaConfig {
    /// Base URL without the version, e.g. `https://graph.facebook.com` or the embedded
    /// simulator's `http://127.0.0.1:8080/sim/graph`.
    pub graph_url: String,
    pub api_version: String,
    pub access_token: String,
    /// Signs the webhooks Meta sends us (`X-Hub-Signature-256`).
    pub app_secret: String,
    /// Echoed by the `hub.challenge` verification handshake.
    pub verify_token: String,
}

/// Meta codes that mean "not now" rather than "not ever": the message was not taken and
/// may be sent again (rate limits, maintenance, transient failures).
pub const RETRYABLE_META_CODES: &[u32] = &[
    1, 2, 4, 80007, 130429, 131000, 131016, 131056, 131057, 133004,
];

pub struct MetaAdapter {
    http: reqwest::Client,
    config: MetaConfig,
}

impl MetaAdapter {
    pub fn new(config: MetaConfig) -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(30))
            .build()?;
        Ok(Self { http, config })
    }

    pub fn config(&self) -> &MetaConfig {
        &self.config
    }

    /// `{graph}/{version}/{node}/{edge}`.
    fn url(&self, node: &str, edge: &str) -> String {
        format!(
            "{}/{}/{node}/{edge}",
            self.config.graph_url.trim_end_matches('/'),
            self.config.api_version,
        )
    }

    fn messages_url(&self, route: &ChannelRoute) -> String {
        self.url(&route.phone_number_id, "messages")
    }

    async fn post(
        &self,
        route: &ChannelRoute,
        body: &SendRequest,
    ) -> Result<reqwest::Response, reqwest::Error> {
        self.http
            .post(self.messages_url(route))
            .bearer_auth(&self.config.access_token)
            .json(body)
            .send()
            .await
    }
}

/// The Graph request for one outbound message. The umid rides along as
/// `biz_opaque_callback_data`, which Meta echoes in every receipt: that is how Parley
/// recognises a message it handed over just before a crash.
pub fn send_request(message: &OutboundMessage) -> SendRequest {
    let mut req = SendRequest {
        messaging_product: "whatsapp".into(),
        recipient_type: Some("individual".into()),
        to: Some(message.to.clone()),
        context: message
            .reply_to
            .clone()
            .map(|message_id| ContextRef { message_id }),
        biz_opaque_callback_data: Some(message.umid.to_string()),
        ..SendRequest::default()
    };
    match &message.content {
        OutboundContent::Text { body } => {
            req.kind = Some("text".into());
            req.text = Some(Text {
                body: body.clone(),
                preview_url: body.contains("http"),
            });
        }
        OutboundContent::Media {
            kind,
            url,
            media_id,
            caption,
            filename,
        } => {
            let media = MediaRef {
                id: media_id.clone(),
                link: media_id.is_none().then(|| url.clone()),
                caption: caption.clone(),
                filename: filename.clone(),
            };
            let (name, slot) = match kind {
                MediaKind::Image => ("image", &mut req.image),
                MediaKind::Video => ("video", &mut req.video),
                MediaKind::Audio => ("audio", &mut req.audio),
                MediaKind::Document => ("document", &mut req.document),
                MediaKind::Sticker => ("sticker", &mut req.sticker),
            };
            *slot = Some(media);
            req.kind = Some(name.into());
        }
        OutboundContent::Location(location) => {
            req.kind = Some("location".into());
            req.location = Some(location.clone());
        }
        OutboundContent::Template(template) => {
            req.kind = Some("template".into());
            req.template = Some(crate::templates::send_object(template));
        }
        OutboundContent::Interactive(interactive) => {
            req.kind = Some("interactive".into());
            req.interactive = Some(crate::interactive::send_object(interactive));
        }
    }
    req
}

/// Graph's answer to a template creation.
#[derive(Debug, Deserialize)]
struct CreatedTemplate {
    id: String,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    category: Option<String>,
}

fn unreachable(e: reqwest::Error) -> ProviderError {
    ProviderError {
        code: 131016,
        title: "Graph API unreachable".into(),
        details: Some(e.to_string()),
    }
}

/// `GET /{media-id}`: where the media can be fetched for the next few minutes.
#[derive(serde::Deserialize)]
struct MediaInfo {
    url: String,
    mime_type: Option<String>,
}

/// `POST /{phone-number-id}/media`: the uploaded file's id.
#[derive(serde::Deserialize)]
struct UploadedMedia {
    id: String,
}

/// The Graph error of a non-2xx answer, or a generic one when the body has none.
async fn graph_error(response: reqwest::Response) -> ProviderError {
    let status = response.status();
    let body = response.bytes().await.unwrap_or_default();
    provider_error(&body).unwrap_or(ProviderError {
        code: 131000,
        title: format!("graph answered {status}"),
        details: None,
    })
}

fn provider_error(body: &[u8]) -> Option<ProviderError> {
    let parsed: ErrorBody = serde_json::from_slice(body).ok()?;
    Some(ProviderError {
        code: parsed.error.code,
        title: parsed.error.message,
        details: parsed
            .error
            .error_data
            .map(|d| d.details)
            .filter(|d| !d.is_empty()),
    })
}

#[async_trait]
impl ChannelAdapter for MetaAdapter {
    async fn send(&self, route: &ChannelRoute, message: &OutboundMessage) -> SendOutcome {
        let response = match self.post(route, &send_request(message)).await {
            Ok(r) => r,
            // Nothing reached Meta if the connection could not even be made.
            Err(e) if e.is_connect() => {
                return SendOutcome::Retryable(ProviderError {
                    code: 131016,
                    title: "Graph API unreachable".into(),
                    details: Some(e.to_string()),
                });
            }
            Err(e) => return SendOutcome::Unknown(e.to_string()),
        };
        let status = response.status();
        let body = match response.bytes().await {
            Ok(b) => b,
            Err(e) => return SendOutcome::Unknown(e.to_string()),
        };
        if status.is_success() {
            return match serde_json::from_slice::<SendResponse>(&body) {
                Ok(r) => match r.messages.into_iter().next() {
                    Some(m) => SendOutcome::Accepted {
                        provider_message_id: m.id,
                    },
                    None => SendOutcome::Unknown("graph answer carried no message id".into()),
                },
                Err(e) => SendOutcome::Unknown(format!("unreadable graph answer: {e}")),
            };
        }
        match provider_error(&body) {
            Some(err) if RETRYABLE_META_CODES.contains(&err.code) => SendOutcome::Retryable(err),
            Some(err) => SendOutcome::Rejected(err),
            None if status == reqwest::StatusCode::TOO_MANY_REQUESTS => {
                SendOutcome::Retryable(ProviderError {
                    code: 130429,
                    title: "rate limited".into(),
                    details: None,
                })
            }
            None => SendOutcome::Unknown(format!("graph answered {status} without an error body")),
        }
    }

    async fn mark_read(
        &self,
        route: &ChannelRoute,
        provider_message_id: &str,
        typing: bool,
    ) -> Result<(), ProviderError> {
        let body = SendRequest {
            messaging_product: "whatsapp".into(),
            status: Some("read".into()),
            message_id: Some(provider_message_id.to_owned()),
            typing_indicator: typing.then(|| TypingIndicator {
                kind: "text".into(),
            }),
            ..SendRequest::default()
        };
        let response = self.post(route, &body).await.map_err(unreachable)?;
        if response.status().is_success() {
            return Ok(());
        }
        Err(graph_error(response).await)
    }

    async fn download_media(
        &self,
        _route: &ChannelRoute,
        media_id: &str,
    ) -> Result<MediaDownload, ProviderError> {
        // The media's short-lived URL first, then its bytes with the same token. No
        // phone_number_id: Meta refuses it for media users sent.
        let url = format!(
            "{}/{}/{media_id}",
            self.config.graph_url.trim_end_matches('/'),
            self.config.api_version
        );
        let response = self
            .http
            .get(url)
            .bearer_auth(&self.config.access_token)
            .send()
            .await
            .map_err(unreachable)?;
        if !response.status().is_success() {
            return Err(graph_error(response).await);
        }
        let info: MediaInfo = response.json().await.map_err(|e| ProviderError {
            code: 131052,
            title: "unreadable media answer".into(),
            details: Some(e.to_string()),
        })?;
        let response = self
            .http
            .get(&info.url)
            .bearer_auth(&self.config.access_token)
            .send()
            .await
            .map_err(unreachable)?;
        if !response.status().is_success() {
            return Err(ProviderError {
                code: 131052,
                title: "Media download error".into(),
                details: Some(format!("the media URL answered {}", response.status())),
            });
        }
        let body = response.bytes_stream().map_err(|e| e.to_string()).boxed();
        Ok(MediaDownload {
            mime_type: info.mime_type,
            body,
        })
    }

    async fn upload_media(
        &self,
        route: &ChannelRoute,
        upload: MediaUpload,
    ) -> Result<String, ProviderError> {
        let unusable = |e: &dyn std::fmt::Display| ProviderError {
            code: 131053,
            title: "Media upload error".into(),
            details: Some(e.to_string()),
        };
        // Streamed with its length, so a 100 MB document is never held whole.
        let file = multipart::Part::stream_with_length(
            reqwest::Body::wrap_stream(upload.body),
            upload.size,
        )
        .file_name(upload.file_name)
        .mime_str(&upload.mime_type)
        .map_err(|e| unusable(&e))?;
        let form = multipart::Form::new()
            .text("messaging_product", "whatsapp")
            .text("type", upload.mime_type)
            .part("file", file);
        let response = self
            .http
            .post(self.url(&route.phone_number_id, "media"))
            .bearer_auth(&self.config.access_token)
            .multipart(form)
            .send()
            .await
            .map_err(unreachable)?;
        if !response.status().is_success() {
            return Err(graph_error(response).await);
        }
        let uploaded: UploadedMedia = response.json().await.map_err(|e| unusable(&e))?;
        Ok(uploaded.id)
    }

    async fn submit_template(
        &self,
        route: &ChannelRoute,
        spec: &TemplateSpec,
    ) -> Result<SubmittedTemplate, ProviderError> {
        let response = self
            .http
            .post(self.url(&route.waba_id, "message_templates"))
            .bearer_auth(&self.config.access_token)
            .json(&crate::templates::create_payload(spec))
            .send()
            .await
            .map_err(unreachable)?;
        if !response.status().is_success() {
            return Err(graph_error(response).await);
        }
        let created: CreatedTemplate = response.json().await.map_err(|e| ProviderError {
            code: 131000,
            title: "unreadable graph answer".into(),
            details: Some(e.to_string()),
        })?;
        Ok(SubmittedTemplate {
            provider_template_id: created.id,
            status: created.status.unwrap_or_else(|| "PENDING".into()),
            category: created
                .category
                .as_deref()
                .and_then(TemplateCategory::parse)
                .unwrap_or(spec.category),
        })
    }

    async fn delete_template(&self, route: &ChannelRoute, name: &str) -> Result<(), ProviderError> {
        let response = self
            .http
            .delete(self.url(&route.waba_id, "message_templates"))
            .query(&[("name", name)])
            .bearer_auth(&self.config.access_token)
            .send()
            .await
            .map_err(unreachable)?;
        if response.status().is_success() {
            return Ok(());
        }
        Err(graph_error(response).await)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use parley_types::Umid;

    #[test]
    fn a_text_send_carries_the_umid_and_the_quoted_message() {
        let umid = Umid::new();
        let req = send_request(&OutboundMessage {
            umid,
            to: "+15551234567".into(),
            content: OutboundContent::Text { body: "hi".into() },
            reply_to: Some("wamid.X".into()),
        });
        let json = serde_json::to_value(&req).unwrap();
        assert_eq!(json["type"], "text");
        assert_eq!(json["text"]["body"], "hi");
        assert_eq!(json["context"]["message_id"], "wamid.X");
        assert_eq!(json["biz_opaque_callback_data"], umid.to_string());
        assert!(json.get("image").is_none());
    }
}
