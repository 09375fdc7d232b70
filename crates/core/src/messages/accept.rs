//! Group commit for accepted messages. Every accepted message must be on disk before the
//! API answers, and a durable commit costs an fsync; one writer task gathers whatever
//! requests are waiting and stores them in one transaction, so under load many messages
//! share one fsync while a lone request is written at once.

use parley_store::{AcceptOutcome, Message, SharedStore, StoreResult};
use tokio::sync::{mpsc, oneshot};

use crate::{Error, Result};

/// Most messages one commit carries; bounds the transaction's size and latency.
const MAX_GROUP: usize = 256;
/// Requests that may wait for the writer before senders are slowed down.
const QUEUE_DEPTH: usize = 4096;

type Reply = oneshot::Sender<StoreResult<AcceptOutcome>>;

#[derive(Clone)]
pub struct AcceptQueue {
    requests: mpsc::Sender<(Message, Reply)>,
}

impl AcceptQueue {
    /// Starts the writer task. It ends once every handle to the queue is dropped and the
    /// requests already queued are written.
    pub fn start(store: SharedStore) -> Self {
        let (requests, mut rx) = mpsc::channel::<(Message, Reply)>(QUEUE_DEPTH);
        tokio::spawn(async move {
            let mut group = Vec::with_capacity(MAX_GROUP);
            while rx.recv_many(&mut group, MAX_GROUP).await > 0 {
                let (messages, replies): (Vec<Message>, Vec<Reply>) = group.drain(..).unzip();
                let started = std::time::Instant::now();
                let stored = store.accept_outbound(&messages).await;
                // What a commit carries and costs: the levers of the accept rate.
                metrics::histogram!("parley_accept_group_messages").record(messages.len() as f64);
                metrics::histogram!("parley_accept_commit_seconds")
                    .record(started.elapsed().as_secs_f64());
                match stored {
                    Ok(outcomes) => {
                        for (reply, outcome) in replies.into_iter().zip(outcomes) {
                            let _ = reply.send(Ok(outcome));
                        }
                    }
                    Err(e) => {
                        tracing::error!(error = %e, count = messages.len(), "accepting messages failed");
                        for reply in replies {
                            let _ = reply.send(Err(e.clone()));
                        }
                    }
                }
            }
        });
        Self { requests }
    }

    pub async fn accept(&self, message: Message) -> Result<AcceptOutcome> {
        let (reply, answer) = oneshot::channel();
        self.requests
            .send((message, reply))
            .await
            .map_err(|_| Error::ShuttingDown)?;
        Ok(answer.await.map_err(|_| Error::ShuttingDown)??)
    }
}
