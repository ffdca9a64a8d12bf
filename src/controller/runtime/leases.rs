//! The Leases of every controller in the process, one per namespace and controller, acquired
//! before a key is reconciled and renewed together on one tick.

use std::collections::BTreeMap;
use std::time::Instant;

use k8s_openapi::api::coordination::v1::Lease;
use kube::Client;

use super::Notice;
use crate::controller::lease::{self, Acquire, Holder};
use crate::error::Result;

enum State {
    Held { renewed: Instant, lease: Box<Lease> },
    Standby { holder: Holder, tried: Instant },
}

/// (namespace, controller) → what we know of its Lease.
pub(super) struct Leases {
    client: Client,
    identity: String,
    states: BTreeMap<(String, &'static str), State>,
    notices: Vec<Notice>,
}

impl Leases {
    pub fn new(client: Client, identity: String) -> Leases {
        Leases {
            client,
            identity,
            states: BTreeMap::new(),
            notices: Vec::new(),
        }
    }

    /// The one-line notices since the last call.
    pub fn notices(&mut self) -> Vec<Notice> {
        std::mem::take(&mut self.notices)
    }

    /// Make sure we hold `controller`'s Lease in `ns`; false when someone else does.
    pub async fn hold(&mut self, ns: &str, controller: &'static str) -> Result<bool> {
        let at = (ns.to_string(), controller);
        match self.states.get(&at) {
            Some(State::Held { .. }) => return Ok(true),
            Some(State::Standby { tried, .. }) if tried.elapsed() < lease::RETRY_EVERY => {
                return Ok(false);
            }
            _ => {}
        }
        match lease::acquire(&self.client, ns, controller, &self.identity).await? {
            Acquire::Held(lease) => {
                let renewed = Instant::now();
                self.states.insert(at, State::Held { renewed, lease });
                self.notices.push(Notice::Acquired {
                    controller,
                    namespace: ns.into(),
                });
                Ok(true)
            }
            Acquire::Standby(holder) => {
                let changed = !matches!(self.states.get(&at),
                    Some(State::Standby { holder: h, .. }) if h.identity == holder.identity);
                if changed {
                    self.notices.push(Notice::Standby {
                        controller,
                        namespace: ns.into(),
                        holder: holder.clone(),
                    });
                }
                let tried = Instant::now();
                self.states.insert(at, State::Standby { holder, tried });
                Ok(false)
            }
        }
    }

    /// Renew every held Lease that is due, all on the same tick.
    pub async fn renew(&mut self) {
        let due: Vec<((String, &'static str), Lease)> = self
            .states
            .iter()
            .filter_map(|(at, s)| match s {
                State::Held { renewed, lease } if renewed.elapsed() >= lease::RENEW_EVERY => {
                    Some((at.clone(), lease.as_ref().clone()))
                }
                _ => None,
            })
            .collect();
        let renewals = due.iter().map(|((_, controller), held)| {
            lease::renew(&self.client, held, controller, &self.identity)
        });
        let results = futures::future::join_all(renewals).await;
        for ((at, _), result) in due.into_iter().zip(results) {
            match result {
                Ok(Acquire::Held(lease)) => {
                    let renewed = Instant::now();
                    self.states.insert(at, State::Held { renewed, lease });
                }
                Ok(Acquire::Standby(holder)) => {
                    self.notices.push(Notice::Lost {
                        controller: at.1,
                        namespace: at.0.clone(),
                    });
                    let tried = Instant::now();
                    self.states.insert(at, State::Standby { holder, tried });
                }
                Err(e) => tracing::warn!("renewing the {} lease in namespace {}: {e}", at.1, at.0),
            }
        }
    }

    /// Give back every Lease we hold (a clean stop: the next holder need not wait it out).
    pub async fn release_all(&mut self) {
        for ((ns, controller), s) in std::mem::take(&mut self.states) {
            if let State::Held { lease, .. } = s
                && let Err(e) =
                    lease::release(&self.client, &lease, &ns, controller, &self.identity).await
            {
                tracing::warn!("{e}");
            }
        }
    }
}
