//! One writer at a time: a coordination.k8s.io Lease per namespace and controller. The holder
//! renews it; a standby tries again until the holder releases it or stops renewing it.

use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use k8s_openapi::jiff::Timestamp;
use kube::api::{Api, PostParams};
use kube::{Client, ResourceExt};

use crate::error::{Error, Result, from_kube};

/// Seconds a Lease stays valid after its last renewal.
pub const DURATION_SECONDS: i32 = 15;
/// How often the holder renews.
pub const RENEW_EVERY: std::time::Duration = std::time::Duration::from_secs(5);
/// How often a standby tries again.
pub const RETRY_EVERY: std::time::Duration = std::time::Duration::from_secs(2);

/// The Lease of the embedded `controller` (e.g. `cloneset`) in a namespace.
pub fn name(controller: &str) -> String {
    format!("kubectl-kruise-{controller}")
}

/// Who we are: `<host>/<pid>`, so a standby can say which process on which host drives.
pub fn identity() -> String {
    let host = hostname();
    format!("{host}/{}", std::process::id())
}

pub fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "localhost".into())
}

/// A live holder, as a person reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    pub identity: String,
    pub renewed_seconds_ago: i64,
}

impl Holder {
    pub fn describe(&self) -> String {
        match self.identity.rsplit_once('/') {
            Some((host, pid)) => format!("process {pid} on host {host}"),
            None => self.identity.clone(),
        }
    }
}

/// The holder of a Lease if it is still valid.
pub fn live_holder(lease: &Lease, now: Timestamp) -> Option<Holder> {
    let spec = lease.spec.as_ref()?;
    let id = spec.holder_identity.clone().filter(|h| !h.is_empty())?;
    let renewed = spec.renew_time.as_ref().or(spec.acquire_time.as_ref())?.0;
    let duration = i64::from(spec.lease_duration_seconds.unwrap_or(DURATION_SECONDS));
    let ago = now.as_second() - renewed.as_second();
    (ago < duration).then_some(Holder {
        identity: id,
        renewed_seconds_ago: ago.max(0),
    })
}

/// Who drives `controller` in `ns` right now, if anyone.
pub async fn holder(client: &Client, ns: &str, controller: &str) -> Result<Option<Holder>> {
    let api: Api<Lease> = Api::namespaced(client.clone(), ns);
    match api.get_opt(&name(controller)).await {
        Ok(l) => Ok(l.and_then(|l| live_holder(&l, Timestamp::now()))),
        Err(e) => Err(from_kube(e, "", None)),
    }
}

/// The outcome of trying to take a Lease.
#[derive(Debug, Clone, PartialEq)]
pub enum Acquire {
    /// We hold it; the Lease as written (renewals reuse it, one request each).
    Held(Box<Lease>),
    /// Someone else holds it.
    Standby(Holder),
}

fn now_micro() -> MicroTime {
    MicroTime(Timestamp::now())
}

/// Take or renew the Lease (guarded by resourceVersion: two contenders never both win).
pub async fn acquire(client: &Client, ns: &str, controller: &str, me: &str) -> Result<Acquire> {
    let api: Api<Lease> = Api::namespaced(client.clone(), ns);
    let lease_name = name(controller);
    let pp = PostParams {
        field_manager: Some("kubectl-kruise".into()),
        ..Default::default()
    };
    let current = api
        .get_opt(&lease_name)
        .await
        .map_err(|e| from_kube(e, "", None))?;
    let Some(mut lease) = current else {
        let lease = Lease {
            metadata: ObjectMeta {
                name: Some(lease_name.clone()),
                namespace: Some(ns.into()),
                labels: Some(
                    [(
                        "app.kubernetes.io/managed-by".to_string(),
                        "kubectl-kruise".to_string(),
                    )]
                    .into(),
                ),
                ..Default::default()
            },
            spec: Some(LeaseSpec {
                holder_identity: Some(me.into()),
                lease_duration_seconds: Some(DURATION_SECONDS),
                acquire_time: Some(now_micro()),
                renew_time: Some(now_micro()),
                lease_transitions: Some(0),
                ..Default::default()
            }),
        };
        return match api.create(&pp, &lease).await {
            Ok(l) => Ok(Acquire::Held(Box::new(l))),
            Err(kube::Error::Api(s)) if s.code == 409 => lost_race(&api, &lease_name).await,
            Err(e) => Err(from_kube(e, "", None)),
        };
    };
    if let Some(h) = live_holder(&lease, Timestamp::now())
        && h.identity != me
    {
        return Ok(Acquire::Standby(h));
    }
    let spec = lease.spec.get_or_insert_with(Default::default);
    if spec.holder_identity.as_deref() != Some(me) {
        spec.holder_identity = Some(me.into());
        spec.acquire_time = Some(now_micro());
        spec.lease_transitions = Some(spec.lease_transitions.unwrap_or(0) + 1);
    }
    spec.lease_duration_seconds = Some(DURATION_SECONDS);
    spec.renew_time = Some(now_micro());
    match api.replace(&lease.name_any(), &pp, &lease).await {
        Ok(l) => Ok(Acquire::Held(Box::new(l))),
        Err(kube::Error::Api(s)) if s.code == 409 => lost_race(&api, &lease.name_any()).await,
        Err(e) => Err(from_kube(e, "", None)),
    }
}

/// Someone wrote the Lease between our read and our write: they hold it; say who.
async fn lost_race(api: &Api<Lease>, name: &str) -> Result<Acquire> {
    let lease = api
        .get_opt(name)
        .await
        .map_err(|e| from_kube(e, "", None))?;
    let holder = lease
        .and_then(|l| live_holder(&l, Timestamp::now()))
        .unwrap_or(Holder {
            identity: "another controller".into(),
            renewed_seconds_ago: 0,
        });
    Ok(Acquire::Standby(holder))
}

/// Renew a Lease we hold with one write from the copy we last wrote; if someone else wrote
/// it since (409), read it and decide as `acquire` does.
pub async fn renew(client: &Client, held: &Lease, controller: &str, me: &str) -> Result<Acquire> {
    let ns = held.namespace().unwrap_or_default();
    let api: Api<Lease> = Api::namespaced(client.clone(), &ns);
    let mut lease = held.clone();
    let spec = lease.spec.get_or_insert_with(Default::default);
    spec.renew_time = Some(now_micro());
    let pp = PostParams {
        field_manager: Some("kubectl-kruise".into()),
        ..Default::default()
    };
    match api.replace(&lease.name_any(), &pp, &lease).await {
        Ok(l) => Ok(Acquire::Held(Box::new(l))),
        Err(kube::Error::Api(s)) if s.code == 409 => acquire(client, &ns, controller, me).await,
        Err(e) => Err(from_kube(e, "", None)),
    }
}

/// Give the Lease up so a standby takes over at once: one write from the copy we last wrote;
/// if someone wrote it since (409), read it and give it up only if it is still ours.
pub async fn release(
    client: &Client,
    held: &Lease,
    ns: &str,
    controller: &str,
    me: &str,
) -> Result<()> {
    let api: Api<Lease> = Api::namespaced(client.clone(), ns);
    let give_up = |mut lease: Lease| {
        let spec = lease.spec.get_or_insert_with(Default::default);
        let ours = spec.holder_identity.as_deref() == Some(me);
        spec.holder_identity = None;
        spec.lease_duration_seconds = Some(1);
        spec.renew_time = Some(now_micro());
        ours.then_some(lease)
    };
    let failed =
        |e: kube::Error| Error::other(format!("releasing lease {}/{}: {e}", ns, name(controller)));
    let Some(lease) = give_up(held.clone()) else {
        return Ok(());
    };
    match api
        .replace(&name(controller), &PostParams::default(), &lease)
        .await
    {
        Ok(_) => return Ok(()),
        Err(kube::Error::Api(s)) if s.code == 409 => {}
        Err(e) => return Err(failed(e)),
    }
    let Some(current) = api.get_opt(&name(controller)).await.map_err(failed)? else {
        return Ok(());
    };
    let Some(lease) = give_up(current) else {
        return Ok(());
    };
    api.replace(&name(controller), &PostParams::default(), &lease)
        .await
        .map(|_| ())
        .map_err(failed)
}
