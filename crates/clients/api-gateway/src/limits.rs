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
//!
//! A third limit, [`SignInFailures`], guards the web UI's sign-in form: it
//! is public (there is no caller yet, so neither limit above applies), and
//! without one it would let anyone try keys as fast as the gateway answers.

use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultDirectRateLimiter, DefaultKeyedRateLimiter, Quota, RateLimiter};
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

/// Failed sign-ins a minute the web UI's form takes before it refuses to
/// look at credentials for a while.
pub const SIGN_IN_FAILURES_PER_MINUTE: u32 = 10;

/// Failed sign-in attempts, limited (GCRA, governor): a burst of the
/// minute's budget, then one failure every 60/N seconds.
///
/// **One limit for the whole gateway, not one per client address.** mcp-core
/// serves the router without axum's `ConnectInfo` (`serve_router` hands
/// `axum::serve` the plain router), so a handler cannot see the peer's
/// address, and `X-Forwarded-For` is whatever the client writes. The cost is
/// that someone failing on purpose keeps the form shut for everyone for as
/// long as they keep failing; API clients (bearer header) are not affected,
/// and the form opens again one failure slot at a time. Keying by address
/// needs `ConnectInfo` in mcp-core first.
///
/// **Only failures count.** A correct credential takes nothing from the
/// budget. While the budget is spent, no credential is checked at all, a
/// correct one included: answering a correct guess during the block would
/// let guessing go on at full speed.
pub struct SignInFailures {
    limiter: DefaultDirectRateLimiter,
    blocked_until: Mutex<Option<Instant>>,
}

impl SignInFailures {
    /// `per_minute` failures a minute.
    pub fn new(per_minute: NonZeroU32) -> Self {
        Self { limiter: RateLimiter::direct(Quota::per_minute(per_minute)), blocked_until: Mutex::new(None) }
    }

    /// Before a credential is checked: `Err(wait)` while the budget is spent.
    pub fn admit(&self) -> Result<(), Duration> {
        let Ok(blocked) = self.blocked_until.lock() else { return Ok(()) };
        match *blocked {
            Some(until) if until > Instant::now() => Err(until - Instant::now()),
            _ => Ok(()),
        }
    }

    /// After a refused credential: `Err(wait)` when this failure was over
    /// the budget, which then stays closed for `wait`.
    pub fn failed(&self) -> Result<(), Duration> {
        self.limiter.check().map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now()).max(Duration::from_millis(1));
            if let Ok(mut blocked) = self.blocked_until.lock() {
                *blocked = Some(Instant::now() + wait);
            }
            wait
        })
    }
}

impl Default for SignInFailures {
    fn default() -> Self {
        Self::new(NonZeroU32::new(SIGN_IN_FAILURES_PER_MINUTE).unwrap_or(NonZeroU32::MIN))
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

    #[test]
    fn sign_in_failures_close_the_form_and_successes_do_not_count() {
        let f = SignInFailures::new(NonZeroU32::new(3).unwrap());
        for _ in 0..3 {
            assert!(f.admit().is_ok());
            assert!(f.failed().is_ok());
        }
        // Successes take nothing: `admit` alone is what a success costs.
        for _ in 0..5 {
            assert!(f.admit().is_ok());
        }
        let wait = f.failed().unwrap_err();
        assert!(wait > Duration::from_secs(1) && wait <= Duration::from_secs(20), "{wait:?}");
        let closed = f.admit().unwrap_err();
        assert!(closed <= wait, "{closed:?} {wait:?}");
    }
}
