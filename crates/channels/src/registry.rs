//! Adapters and webhook intakes found by channel kind. `Adapters` is itself a
//! `ChannelAdapter` that hands each call to the adapter of the route's kind, so the core
//! holds one `Arc<dyn ChannelAdapter>` whatever kinds a deployment has; a kind with no
//! adapter answers every call with an error instead of sending anywhere.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use parley_types::ChannelKind;

use crate::{
    ChannelAdapter, ChannelRoute, MediaDownload, MediaUpload, OutboundMessage, ProviderError,
    SendOutcome, SubmittedTemplate, TemplateSpec, WebhookIntake,
};

/// What a call on a kind without an adapter answers (8x8's "channel not supported").
fn no_adapter(kind: ChannelKind) -> ProviderError {
    ProviderError {
        code: 0,
        title: format!("no {kind} provider is configured"),
        details: None,
    }
}

#[derive(Clone, Default)]
pub struct Adapters {
    by_kind: HashMap<ChannelKind, Arc<dyn ChannelAdapter>>,
}

impl Adapters {
    pub fn with(mut self, kind: ChannelKind, adapter: Arc<dyn ChannelAdapter>) -> Self {
        self.by_kind.insert(kind, adapter);
        self
    }

    pub fn get(&self, kind: ChannelKind) -> Result<&Arc<dyn ChannelAdapter>, ProviderError> {
        self.by_kind.get(&kind).ok_or_else(|| no_adapter(kind))
    }

    /// The kinds this deployment can send on.
    pub fn kinds(&self) -> Vec<ChannelKind> {
        let mut kinds: Vec<_> = self.by_kind.keys().copied().collect();
        kinds.sort();
        kinds
    }
}

#[async_trait]
impl ChannelAdapter for Adapters {
    async fn send(&self, route: &ChannelRoute, message: &OutboundMessage) -> SendOutcome {
        match self.get(route.kind) {
            Ok(adapter) => adapter.send(route, message).await,
            Err(e) => SendOutcome::Rejected(e),
        }
    }

    async fn mark_read(
        &self,
        route: &ChannelRoute,
        provider_message_id: &str,
        typing: bool,
    ) -> Result<(), ProviderError> {
        self.get(route.kind)?
            .mark_read(route, provider_message_id, typing)
            .await
    }

    async fn submit_template(
        &self,
        route: &ChannelRoute,
        spec: &TemplateSpec,
    ) -> Result<SubmittedTemplate, ProviderError> {
        self.get(route.kind)?.submit_template(route, spec).await
    }

    async fn delete_template(&self, route: &ChannelRoute, name: &str) -> Result<(), ProviderError> {
        self.get(route.kind)?.delete_template(route, name).await
    }

    async fn download_media(
        &self,
        route: &ChannelRoute,
        media_id: &str,
    ) -> Result<MediaDownload, ProviderError> {
        self.get(route.kind)?.download_media(route, media_id).await
    }

    async fn upload_media(
        &self,
        route: &ChannelRoute,
        upload: MediaUpload,
    ) -> Result<String, ProviderError> {
        self.get(route.kind)?.upload_media(route, upload).await
    }
}

/// How each kind's provider webhooks come in (`/meta/webhook` is WhatsApp's).
#[derive(Clone, Default)]
pub struct Intakes {
    by_kind: HashMap<ChannelKind, Arc<dyn WebhookIntake>>,
}

impl Intakes {
    pub fn with(mut self, kind: ChannelKind, intake: Arc<dyn WebhookIntake>) -> Self {
        self.by_kind.insert(kind, intake);
        self
    }

    pub fn get(&self, kind: ChannelKind) -> Option<&Arc<dyn WebhookIntake>> {
        self.by_kind.get(&kind)
    }
}
