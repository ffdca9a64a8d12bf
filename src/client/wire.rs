//! Kruise Rollout's objects on a cluster that serves `rollouts.kruise.io` at v1alpha1 only (the
//! CRDs of an older Kruise Rollout): a layer under the client that sends what the tool asks of
//! v1beta1 to v1alpha1 and converts bodies both ways (`api::rollout_wire`), as the operator's
//! conversion webhook would. Everything above it — commands, watches, the embedded controllers —
//! reads and writes v1beta1 only.
//!
//! Which version is served is learnt lazily: a request to v1beta1 goes out as is; only when one
//! comes back 404 is the group's discovery read (once per process), and if it serves v1alpha1
//! without v1beta1 the request is sent again, converted, and so is every one after it. A
//! cluster serving v1beta1 pays nothing.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::task::{Context, Poll};

use bytes::{Bytes, BytesMut};
use futures::Stream;
use futures::future::BoxFuture;
use http::{Method, Request, Response, StatusCode};
use http_body::Frame;
use http_body_util::{BodyExt, Full, StreamBody};
use kube::client::{Body, DynBody};
use serde_json::Value;
use tower::buffer::Buffer;
use tower::{Layer, Service, ServiceExt};

use crate::api::rollout_wire::{self, Way};

type BoxError = Box<dyn std::error::Error + Send + Sync>;
type Resp = Response<Box<DynBody>>;

const NEW_PREFIX: &str = "/apis/rollouts.kruise.io/v1beta1/";
const OLD_PREFIX: &str = "/apis/rollouts.kruise.io/v1alpha1/";
const DISCOVERY: &str = "/apis/rollouts.kruise.io";

const UNKNOWN: u8 = 0;
const NEW: u8 = 1;
const OLD: u8 = 2;

/// The layer: wraps the client's stack.
#[derive(Clone, Default)]
pub struct WireLayer;

impl<S> Layer<S> for WireLayer
where
    S: Service<Request<Body>, Response = Resp, Error = BoxError> + Send + 'static,
    S::Future: Send + 'static,
{
    type Service = Wire<S>;

    fn layer(&self, inner: S) -> Wire<S> {
        Wire {
            inner: Buffer::new(inner, 1024),
            served: Arc::new(AtomicU8::new(UNKNOWN)),
        }
    }
}

pub struct Wire<S>
where
    S: Service<Request<Body>>,
{
    inner: Buffer<Request<Body>, S::Future>,
    served: Arc<AtomicU8>,
}

impl<S> Service<Request<Body>> for Wire<S>
where
    S: Service<Request<Body>, Response = Resp, Error = BoxError> + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Resp;
    type Error = BoxError;
    type Future = BoxFuture<'static, Result<Resp, BoxError>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<Body>) -> Self::Future {
        if !req.uri().path().starts_with(NEW_PREFIX) {
            let f = self.inner.call(req);
            return Box::pin(f);
        }
        let inner = self.inner.clone();
        let served = self.served.clone();
        Box::pin(async move { rollouts_request(inner, served, req).await })
    }
}

/// A request's parts kept to send it again (extensions are not carried over).
struct Sent {
    method: Method,
    uri: http::Uri,
    headers: http::HeaderMap,
    body: Bytes,
}

impl Sent {
    fn request(&self, uri: http::Uri, body: Bytes) -> Request<Body> {
        let mut r = Request::new(Body::from(body.to_vec()));
        *r.method_mut() = self.method.clone();
        *r.uri_mut() = uri;
        *r.headers_mut() = self.headers.clone();
        r.headers_mut().remove(http::header::CONTENT_LENGTH);
        r
    }
}

async fn rollouts_request<F>(
    inner: Buffer<Request<Body>, F>,
    served: Arc<AtomicU8>,
    req: Request<Body>,
) -> Result<Resp, BoxError>
where
    F: std::future::Future<Output = Result<Resp, BoxError>> + Send + 'static,
{
    let (parts, body) = req.into_parts();
    let body = body.collect().await?.to_bytes();
    let sent = Sent {
        method: parts.method,
        uri: parts.uri,
        headers: parts.headers,
        body,
    };
    if served.load(Ordering::Relaxed) == OLD {
        return old(inner, &sent).await;
    }
    let resp = inner
        .clone()
        .oneshot(sent.request(sent.uri.clone(), sent.body.clone()))
        .await?;
    if resp.status() != StatusCode::NOT_FOUND || served.load(Ordering::Relaxed) == NEW {
        return Ok(resp);
    }
    let v = discover(inner.clone(), &sent).await;
    served.store(v, Ordering::Relaxed);
    if v == OLD {
        return old(inner, &sent).await;
    }
    Ok(resp)
}

/// Which of the two versions the cluster serves (v1beta1 unless it serves v1alpha1 alone).
async fn discover<F>(inner: Buffer<Request<Body>, F>, like: &Sent) -> u8
where
    F: std::future::Future<Output = Result<Resp, BoxError>> + Send + 'static,
{
    let probe = Sent {
        method: Method::GET,
        uri: like.uri.clone(),
        headers: like.headers.clone(),
        body: Bytes::new(),
    };
    let Ok(uri) = DISCOVERY.parse() else {
        return NEW;
    };
    let Ok(resp) = inner.oneshot(probe.request(uri, Bytes::new())).await else {
        return UNKNOWN;
    };
    if !resp.status().is_success() {
        return NEW;
    }
    let Ok(body) = resp.into_body().collect().await else {
        return UNKNOWN;
    };
    let group: Value = serde_json::from_slice(&body.to_bytes()).unwrap_or_default();
    let versions: Vec<&str> = group["versions"]
        .as_array()
        .map(|vs| vs.iter().filter_map(|v| v["version"].as_str()).collect())
        .unwrap_or_default();
    if versions.contains(&"v1alpha1") && !versions.contains(&"v1beta1") {
        tracing::debug!("rollouts.kruise.io is served at v1alpha1 only: converting");
        OLD
    } else {
        NEW
    }
}

/// The request sent to v1alpha1, its body converted down and its answer up.
async fn old<F>(inner: Buffer<Request<Body>, F>, sent: &Sent) -> Result<Resp, BoxError>
where
    F: std::future::Future<Output = Result<Resp, BoxError>> + Send + 'static,
{
    let pq = sent
        .uri
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or_default();
    let uri: http::Uri = pq.replacen(NEW_PREFIX, OLD_PREFIX, 1).parse()?;
    let body = if matches!(sent.method, Method::POST | Method::PUT) && !sent.body.is_empty() {
        match serde_json::from_slice::<Value>(&sent.body) {
            Ok(v) => Bytes::from(serde_json::to_vec(&rollout_wire::convert(v, Way::Down))?),
            Err(_) => sent.body.clone(),
        }
    } else {
        sent.body.clone()
    };
    let watch = uri
        .query()
        .is_some_and(|q| q.split('&').any(|kv| kv == "watch=true" || kv == "watch=1"));
    let resp = inner.oneshot(sent.request(uri, body)).await?;
    let (mut parts, body) = resp.into_parts();
    parts.headers.remove(http::header::CONTENT_LENGTH);
    let body: Box<DynBody> = if watch {
        Box::new(StreamBody::new(Lines::new(body)))
    } else {
        let bytes = body.collect().await?.to_bytes();
        Box::new(Full::new(up(&bytes)).map_err(|never| match never {}))
    };
    Ok(Response::from_parts(parts, body))
}

/// One JSON document read from v1alpha1, as v1beta1 (anything not JSON as it came).
fn up(bytes: &[u8]) -> Bytes {
    match serde_json::from_slice::<Value>(bytes) {
        Ok(v) => serde_json::to_vec(&rollout_wire::convert(v, Way::Up))
            .map(Bytes::from)
            .unwrap_or_else(|_| Bytes::copy_from_slice(bytes)),
        Err(_) => Bytes::copy_from_slice(bytes),
    }
}

/// A watch's events (one JSON object a line), each object converted up.
struct Lines {
    body: Pin<Box<DynBody>>,
    buf: BytesMut,
    done: bool,
}

impl Lines {
    fn new(body: Box<DynBody>) -> Lines {
        Lines {
            body: Pin::new(body),
            buf: BytesMut::new(),
            done: false,
        }
    }

    /// Every complete line in the buffer, converted.
    fn take_lines(&mut self, all: bool) -> Option<Bytes> {
        let end = if all {
            self.buf.len()
        } else {
            self.buf.iter().rposition(|b| *b == b'\n')? + 1
        };
        if end == 0 {
            return None;
        }
        let chunk = self.buf.split_to(end);
        let mut out = Vec::with_capacity(chunk.len());
        for line in chunk[..].split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
            out.extend_from_slice(&event_up(line));
            out.push(b'\n');
        }
        Some(Bytes::from(out))
    }
}

fn event_up(line: &[u8]) -> Vec<u8> {
    let Ok(mut ev) = serde_json::from_slice::<Value>(line) else {
        return line.to_vec();
    };
    if let Some(o) = ev.get_mut("object") {
        *o = rollout_wire::convert(o.take(), Way::Up);
    }
    serde_json::to_vec(&ev).unwrap_or_else(|_| line.to_vec())
}

impl Stream for Lines {
    type Item = Result<Frame<Bytes>, BoxError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        loop {
            if self.done {
                return Poll::Ready(self.take_lines(true).map(|b| Ok(Frame::data(b))));
            }
            match self.body.as_mut().poll_frame(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(None) => self.done = true,
                Poll::Ready(Some(Err(e))) => return Poll::Ready(Some(Err(e))),
                Poll::Ready(Some(Ok(frame))) => {
                    if let Ok(data) = frame.into_data() {
                        self.buf.extend_from_slice(&data);
                        if let Some(b) = self.take_lines(false) {
                            return Poll::Ready(Some(Ok(Frame::data(b))));
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use futures::StreamExt;

    use super::*;

    fn lines_of(chunks: &[&str]) -> String {
        let frames: Vec<Result<Frame<Bytes>, BoxError>> = chunks
            .iter()
            .map(|c| Ok(Frame::data(Bytes::from(c.to_string()))))
            .collect();
        let body: Box<DynBody> = Box::new(StreamBody::new(futures::stream::iter(frames)));
        let out: Vec<Bytes> = futures::executor::block_on(
            Lines::new(body)
                .map(|f| f.unwrap().into_data().unwrap())
                .collect(),
        );
        String::from_utf8(out.concat()).unwrap()
    }

    /// Events split across chunks anywhere are converted whole, one a line.
    #[test]
    fn a_watch_is_converted_event_by_event_whatever_the_chunks() {
        let ev = r#"{"type":"ADDED","object":{"apiVersion":"rollouts.kruise.io/v1alpha1","kind":"Rollout","metadata":{"name":"a"},"spec":{"objectRef":{"workloadRef":{"apiVersion":"apps/v1","kind":"Deployment","name":"w"}},"strategy":{"canary":{"steps":[{"weight":5}]}}}}}"#;
        let two = format!("{ev}\n{ev}\n");
        let (a, b) = two.split_at(17);
        let (b, c) = b.split_at(ev.len());
        for out in [lines_of(&[&two]), lines_of(&[a, b, c])] {
            let events: Vec<Value> = out
                .lines()
                .map(|l| serde_json::from_str(l).unwrap())
                .collect();
            assert_eq!(events.len(), 2, "{out}");
            for e in events {
                assert_eq!(e["object"]["apiVersion"], rollout_wire::HUB);
                assert_eq!(e["object"]["spec"]["workloadRef"]["name"], "w");
                assert_eq!(
                    e["object"]["spec"]["strategy"]["canary"]["steps"][0]["traffic"],
                    "5%"
                );
            }
        }
    }

    #[test]
    fn what_is_not_json_passes_as_it_came() {
        assert_eq!(up(b"404 page not found"), Bytes::from("404 page not found"));
        assert_eq!(lines_of(&["not json\n"]), "not json\n");
    }
}
