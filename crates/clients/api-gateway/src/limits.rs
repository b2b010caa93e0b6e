//! Per caller and tool quotas: calls per minute through a keyed GCRA
//! (governor), checked before a call is forwarded.
//!
//! Two limits exist and answer differently on purpose. The edge limit
//! (`authn`, per caller, every request) is HTTP 429 with `Retry-After`: a
//! client going too fast as a whole. This quota is about one tool: a model
//! looping on `fs__grep` should learn that *this* tool is spent for now and
//! may still do something else, so it is a tool result (`isError`, kind
//! `rate_limited`) with the time to wait in the text, not a transport error
//! that would fail the whole session.
//!
//! A quota of N per minute allows a burst of N (the minute's whole budget),
//! then one call every 60/N seconds. The fleet token's holder is exempt: the
//! planner's steps through the gateway are the fleet's own work.

use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use mcp_core::auth::Caller;

use crate::policy::is_fleet;

/// The quotas of one gateway.
pub struct Quotas {
    limiter: Option<(DefaultKeyedRateLimiter<(String, String)>, u32)>,
}

/// A call over its quota.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OverQuota {
    /// When the next call of this tool will be admitted.
    pub retry_after: Duration,
    /// The quota, calls per minute.
    pub per_minute: u32,
}

impl OverQuota {
    /// The message the model reads.
    pub fn message(&self, tool: &str) -> String {
        format!(
            "rate limited: {tool} allows {} calls per minute per caller and this caller has used them; retry in {:.1} s \
             (other tools are not affected)",
            self.per_minute,
            self.retry_after.as_secs_f64().max(0.1)
        )
    }
}

impl Quotas {
    /// `per_minute` calls per caller and tool (0: no quota).
    pub fn new(per_minute: u32) -> Self {
        let limiter = NonZeroU32::new(per_minute).map(|n| (RateLimiter::keyed(Quota::per_minute(n)), per_minute));
        Self { limiter }
    }

    /// Take one call of `tool` for `caller`, or say when to come back. A
    /// caller is its key id, else its subject (JWT callers).
    pub fn check(&self, caller: &Caller, tool: &str) -> Result<(), OverQuota> {
        let Some((limiter, per_minute)) = &self.limiter else { return Ok(()) };
        if is_fleet(caller) {
            return Ok(());
        }
        let who = caller.key_id.clone().unwrap_or_else(|| caller.subject.clone());
        limiter.check_key(&(who, tool.to_owned())).map_err(|not_until| OverQuota {
            retry_after: not_until.wait_time_from(DefaultClock::default().now()),
            per_minute: *per_minute,
        })
    }

    /// Forget callers idle for a while (the refresher calls this).
    pub fn shrink(&self) {
        if let Some((l, _)) = &self.limiter {
            l.retain_recent();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mcp_core::auth::Role;

    #[test]
    fn a_quota_is_per_caller_and_tool_and_the_fleet_is_exempt() {
        let q = Quotas::new(2);
        let a = Caller { subject: "a".into(), role: Role::Admin, key_id: Some("aaaaaaaaaaaa".into()) };
        let b = Caller { subject: "b".into(), role: Role::Admin, key_id: Some("bbbbbbbbbbbb".into()) };
        assert!(q.check(&a, "fs__stat").is_ok());
        assert!(q.check(&a, "fs__stat").is_ok());
        let over = q.check(&a, "fs__stat").unwrap_err();
        assert!(over.retry_after > Duration::from_secs(1) && over.retry_after <= Duration::from_secs(30), "{over:?}");
        assert!(over.message("fs__stat").contains("retry in"), "{}", over.message("fs__stat"));
        assert!(q.check(&a, "fs__tree").is_ok(), "another tool has its own budget");
        assert!(q.check(&b, "fs__stat").is_ok(), "another caller has its own budget");
        for _ in 0..10 {
            assert!(q.check(&Caller::fleet(), "fs__stat").is_ok());
        }
        let none = Quotas::new(0);
        for _ in 0..10 {
            assert!(none.check(&a, "fs__stat").is_ok());
        }
    }
}
