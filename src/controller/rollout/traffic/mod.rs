//! Traffic routing for Kruise Rollout steps (reference notes §3): the canary Service, the nginx
//! canary Ingress and the Gateway API HTTPRoute rules, as pure functions from the objects read
//! from the cluster to the objects or patches to write. The driving code does the I/O.

use crate::api::rollout::HttpRouteMatch;

pub mod gateway;
pub mod nginx;
pub mod service;

/// What one step asks of the network: the providers read nothing else of the step.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Route<'a> {
    /// Percent of traffic for the new version, already rounded up ([`percent`]); `None` when the
    /// step sets no traffic.
    pub traffic: Option<i32>,
    /// The step's request matches (A/B testing); empty when it has none.
    pub matches: &'a [HttpRouteMatch],
}

/// A step's `traffic` string as a whole percent, rounded up: `"5%"` → 5, `"5.5%"` → 6.
///
/// Upstream parses it with apimachinery's integer-only parser, so its webhook rejects
/// `"5.5%"` (and its providers would read 0); this project's CRD admits fractions, and rounding
/// them up keeps "a little traffic" from becoming none. `None` for anything that is not a
/// plain, non-negative decimal number followed by `%`.
pub fn percent(s: &str) -> Option<i32> {
    let number = s.strip_suffix('%')?;
    let plain = !number.is_empty()
        && number.chars().all(|c| c.is_ascii_digit() || c == '.')
        && number.chars().any(|c| c.is_ascii_digit());
    if !plain {
        return None;
    }
    let value: f64 = number.parse().ok()?;
    Some(value.ceil().min(i32::MAX as f64) as i32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_percentages() {
        assert_eq!(percent("5%"), Some(5));
        assert_eq!(percent("0%"), Some(0));
        assert_eq!(percent("100%"), Some(100));
        assert_eq!(percent("007%"), Some(7));
    }

    #[test]
    fn fractions_round_up() {
        assert_eq!(percent("5.5%"), Some(6));
        assert_eq!(percent("0.1%"), Some(1));
        assert_eq!(percent("99.01%"), Some(100));
        assert_eq!(percent("20.0%"), Some(20));
    }

    #[test]
    fn garbage_is_none() {
        for s in [
            "", "%", "5", "5 %", "-5%", "+5%", "five%", "1e2%", "inf%", "NaN%", ".%", "5.5.5%",
            "5%%",
        ] {
            assert_eq!(percent(s), None, "{s:?}");
        }
    }
}
