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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::OutboundContent;
    use parley_types::Umid;

    /// Accepts every send, naming itself in the provider id.
    struct Named(&'static str);

    #[async_trait]
    impl ChannelAdapter for Named {
        async fn send(&self, _: &ChannelRoute, _: &OutboundMessage) -> SendOutcome {
            SendOutcome::Accepted {
                provider_message_id: self.0.to_owned(),
            }
        }
        async fn mark_read(&self, _: &ChannelRoute, _: &str, _: bool) -> Result<(), ProviderError> {
            Ok(())
        }
        async fn submit_template(
            &self,
            _: &ChannelRoute,
            _: &TemplateSpec,
        ) -> Result<SubmittedTemplate, ProviderError> {
            Err(no_adapter(ChannelKind::Voice))
        }
        async fn delete_template(&self, _: &ChannelRoute, _: &str) -> Result<(), ProviderError> {
            Ok(())
        }
        async fn download_media(
            &self,
            _: &ChannelRoute,
            _: &str,
        ) -> Result<MediaDownload, ProviderError> {
            Err(no_adapter(ChannelKind::Voice))
        }
        async fn upload_media(
            &self,
            _: &ChannelRoute,
            _: MediaUpload,
        ) -> Result<String, ProviderError> {
            Ok(self.0.to_owned())
        }
    }

    fn route(kind: ChannelKind) -> ChannelRoute {
        ChannelRoute {
            kind,
            phone_number_id: "1".into(),
            business_number: "+15550001111".into(),
            waba_id: "2".into(),
        }
    }

    #[tokio::test]
    async fn each_call_goes_to_the_adapter_of_the_route_s_kind() {
        let adapters = Adapters::default()
            .with(ChannelKind::WhatsApp, Arc::new(Named("meta")))
            .with(ChannelKind::Sms, Arc::new(Named("carrier")));
        assert_eq!(adapters.kinds(), [ChannelKind::WhatsApp, ChannelKind::Sms]);
        let message = OutboundMessage {
            umid: Umid::new(),
            to: "+15551230001".into(),
            content: OutboundContent::Text { body: "hi".into() },
            reply_to: None,
        };
        let sent = |kind| {
            let adapters = adapters.clone();
            let message = message.clone();
            async move { adapters.send(&route(kind), &message).await }
        };
        assert_eq!(
            sent(ChannelKind::Sms).await,
            SendOutcome::Accepted {
                provider_message_id: "carrier".into()
            }
        );
        assert_eq!(
            sent(ChannelKind::WhatsApp).await,
            SendOutcome::Accepted {
                provider_message_id: "meta".into()
            }
        );
        match sent(ChannelKind::Voice).await {
            SendOutcome::Rejected(e) => assert_eq!(e.title, "no voice provider is configured"),
            other => panic!("a kind without an adapter sends nowhere: {other:?}"),
        }
        let marked = adapters
            .mark_read(&route(ChannelKind::Voice), "x", false)
            .await;
        assert!(marked.is_err());
    }
}
