//! Browsers per MCP session: the server's state.
//!
//! A session-style caller (2025-11-25, `Mcp-Session-Id`) gets a browser of
//! its own, keyed by its session id; a stateless caller (2026-07-28, no
//! session) gets one keyed by its authenticated subject, so the planner's
//! `browser_navigate` then `browser_screenshot` — two stateless calls — see
//! the same page. Each browser is its own Chromium process with a fresh
//! temporary profile (cookies, storage and cache die with it). A browser is
//! killed by `browser_close`, after `BROWSER_IDLE_SECS` without a call, and
//! when the server stops ([`Browsers::kill_all`], run by the program's
//! background task when it is dropped at shutdown, and by `Drop`).

use std::collections::HashMap;
use std::sync::atomic::{AtomicI32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mcp_core::{Ctx, ToolError};

use crate::chrome::{Chrome, HandlerErrors, kill_group};
use crate::config::Config;
use crate::origin::Policy;

/// One caller's browser. Calls on it run one at a time (the lock).
pub struct Session {
    /// The key (session id or caller).
    pub key: String,
    chrome: Arc<tokio::sync::Mutex<Option<Chrome>>>,
    last_used: Mutex<Instant>,
    /// The running Chromium's process group, for killing without the lock.
    pgid: AtomicI32,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The server's state.
pub struct Browsers {
    /// Configuration.
    pub config: Config,
    /// The allow-list and file roots.
    pub policy: Arc<Policy>,
    sessions: Mutex<HashMap<String, Arc<Session>>>,
    /// chromiumoxide handler errors since start-up.
    pub handler_errors: HandlerErrors,
    /// Browsers launched since start-up.
    pub launched: AtomicU64,
    /// The profile directories of every browser launched (tests look for
    /// processes and files left behind by them).
    pub profiles: Mutex<Vec<std::path::PathBuf>>,
}

/// A session's browser, locked for one call.
pub type Guard = tokio::sync::OwnedMappedMutexGuard<Option<Chrome>, Chrome>;

impl Browsers {
    /// The state for `config`.
    pub fn new(config: Config) -> Self {
        let policy = Arc::new(Policy { origins: config.origins.clone(), roots: config.roots.clone() });
        Self {
            config,
            policy,
            sessions: Mutex::new(HashMap::new()),
            handler_errors: Arc::new(crate::chrome::HandlerLog::default()),
            launched: AtomicU64::new(0),
            profiles: Mutex::new(Vec::new()),
        }
    }

    /// The key of the caller's browser.
    pub fn key_of(ctx: &Ctx) -> String {
        match ctx.session_id() {
            Some(s) => format!("session:{s}"),
            None => format!("caller:{}", ctx.caller().map_or("anonymous", |c| c.subject.as_str())),
        }
    }

    /// The caller's session, made if new (bounded by `BROWSER_MAX_SESSIONS`).
    pub fn session(&self, ctx: &Ctx) -> Result<Arc<Session>, ToolError> {
        let key = Self::key_of(ctx);
        let mut m = lock(&self.sessions);
        if let Some(s) = m.get(&key) {
            *lock(&s.last_used) = Instant::now();
            return Ok(s.clone());
        }
        if m.len() >= self.config.max_sessions {
            return Err(ToolError::RateLimited(format!(
                "{} browser sessions are open, the most this server runs (BROWSER_MAX_SESSIONS); another caller must \
                 call browser_close or go idle for {} s first",
                m.len(),
                self.config.idle.as_secs()
            )));
        }
        let s = Arc::new(Session {
            key: key.clone(),
            chrome: Arc::new(tokio::sync::Mutex::new(None)),
            last_used: Mutex::new(Instant::now()),
            pgid: AtomicI32::new(0),
        });
        m.insert(key, s.clone());
        Ok(s)
    }

    /// The caller's running browser, launched on first use (or again after
    /// it died), locked for this call.
    pub async fn browser(&self, ctx: &Ctx) -> Result<Guard, ToolError> {
        let s = self.session(ctx)?;
        self.open(s).await
    }

    async fn open(&self, s: Arc<Session>) -> Result<Guard, ToolError> {
        let mut g = s.chrome.clone().lock_owned().await;
        let dead = match g.as_mut() {
            Some(c) => !c.alive(),
            None => true,
        };
        if dead {
            if g.is_some() {
                mcp_core::tracing::warn!(session = %s.key, "the session's Chromium exited; starting a new one");
            }
            *g = None;
            let c = Chrome::launch(&self.config, self.policy.clone(), self.handler_errors.clone()).await?;
            s.pgid.store(c.pgid().unwrap_or(0), Ordering::Relaxed);
            self.launched.fetch_add(1, Ordering::Relaxed);
            if let Some(p) = c.profile_dir() {
                lock(&self.profiles).push(p);
            }
            *g = Some(c);
        }
        *lock(&s.last_used) = Instant::now();
        tokio::sync::OwnedMutexGuard::try_map(g, Option::as_mut)
            .map_err(|_| ToolError::internal("browser vanished while locked"))
    }

    /// End the caller's browser; whether there was one.
    pub async fn close(&self, ctx: &Ctx) -> bool {
        let key = Self::key_of(ctx);
        let s = lock(&self.sessions).remove(&key);
        match s {
            Some(s) => {
                let had = s.chrome.lock().await.take().is_some();
                s.kill();
                had
            }
            None => false,
        }
    }

    /// Kill browsers idle longer than `BROWSER_IDLE_SECS`; how many.
    pub fn reap_idle(&self) -> usize {
        let idle = self.config.idle;
        let gone: Vec<Arc<Session>> = {
            let mut m = lock(&self.sessions);
            let keys: Vec<String> = m
                .iter()
                .filter(|(_, s)| lock(&s.last_used).elapsed() > idle && s.chrome.try_lock().is_ok())
                .map(|(k, _)| k.clone())
                .collect();
            keys.iter().filter_map(|k| m.remove(k)).collect()
        };
        for s in &gone {
            mcp_core::tracing::info!(session = %s.key, "browser idle too long; killed");
            s.kill();
            if let Ok(mut g) = s.chrome.try_lock() {
                g.take();
            }
        }
        gone.len()
    }

    /// Kill every browser now (server stop).
    pub fn kill_all(&self) {
        let all: Vec<Arc<Session>> = lock(&self.sessions).drain().map(|(_, s)| s).collect();
        for s in all {
            s.kill();
            if let Ok(mut g) = s.chrome.try_lock() {
                g.take();
            }
        }
    }

    /// Browsers running now.
    pub fn open_sessions(&self) -> usize {
        lock(&self.sessions).len()
    }

    /// The idle reaper, run as the program's background task; dropping it
    /// (at shutdown) kills every browser.
    pub async fn background(self: Arc<Self>) {
        let _kill = KillAllOnDrop(self.clone());
        let tick = (self.config.idle / 4).clamp(Duration::from_secs(1), Duration::from_secs(30));
        loop {
            tokio::time::sleep(tick).await;
            self.reap_idle();
        }
    }
}

impl Session {
    fn kill(&self) {
        let g = self.pgid.swap(0, Ordering::Relaxed);
        if g > 0 {
            kill_group(g);
        }
    }
}

impl Drop for Browsers {
    fn drop(&mut self) {
        self.kill_all();
    }
}

struct KillAllOnDrop(Arc<Browsers>);

impl Drop for KillAllOnDrop {
    fn drop(&mut self) {
        self.0.kill_all();
    }
}
