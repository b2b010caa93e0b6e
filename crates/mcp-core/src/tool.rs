//! What a tool is: a name, a description written for the model, behaviour
//! annotations, typed arguments and a handler.
//!
//! Server crates define tools with [`Tool::new`] and never see rmcp types: the
//! argument type's `///` docs become the `inputSchema` the model reads, a typed
//! [`Out<T>`] becomes `structuredContent` with a matching `outputSchema`, and a
//! [`ToolError`] becomes an `isError` result whose message tells the model what
//! to change. Annotations are a required argument, so no tool can ship without
//! them.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The boxed future of a [`Handler`] and a [`ToolSource`] (re-exported for
/// implementors).
pub use futures::future::BoxFuture;
use schemars::JsonSchema;
use schemars::generate::SchemaSettings;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use tokio_util::sync::CancellationToken;

pub use crate::error::ErrorKind;

/// A JSON object.
pub type JsonObject = Map<String, Value>;

/// Behaviour hints shown to clients (`readOnlyHint`, `destructiveHint`,
/// `idempotentHint`, `openWorldHint`). Pick the constructor that is true of the
/// tool; clients use these to decide what needs a human's confirmation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Annotations {
    /// Does not change its environment.
    pub read_only: bool,
    /// May overwrite or delete existing state.
    pub destructive: bool,
    /// Repeating the same call has no further effect.
    pub idempotent: bool,
    /// Talks to systems outside the server's own domain (network, mail, registries).
    pub open_world: bool,
}

impl Annotations {
    /// Reads only.
    pub const fn read_only() -> Self {
        Self { read_only: true, destructive: false, idempotent: true, open_world: false }
    }
    /// Adds state without destroying any (create a file exclusively, append a record).
    pub const fn additive(idempotent: bool) -> Self {
        Self { read_only: false, destructive: false, idempotent, open_world: false }
    }
    /// May overwrite or delete state.
    pub const fn destructive(idempotent: bool) -> Self {
        Self { read_only: false, destructive: true, idempotent, open_world: false }
    }
    /// Also reaches outside systems.
    pub const fn open_world(mut self) -> Self {
        self.open_world = true;
        self
    }
}

/// Why a tool call failed. Each variant's message is shown to the model, so it
/// says what to change; [`ToolError::Internal`] hides its detail (it goes to
/// the log with the trace_id instead).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ToolError {
    /// The arguments are wrong; the message says how.
    #[error("invalid argument: {0}")]
    Invalid(String),
    /// The thing named does not exist.
    #[error("not found: {0}")]
    NotFound(String),
    /// The server's policy forbids this; the message says which rule.
    #[error("refused by policy: {0}")]
    Denied(String),
    /// The current state does not allow it (file exists, branch is dirty...).
    #[error("conflict: {0}")]
    Conflict(String),
    /// A dependency is down; retrying later may work.
    #[error("unavailable: {0}")]
    Unavailable(String),
    /// The operation ran out of time.
    #[error("timed out: {0}")]
    Timeout(String),
    /// The caller went too fast; wait and call again.
    #[error("rate limited: {0}")]
    RateLimited(String),
    /// A budget (steps, wall time, tokens) is spent.
    #[error("budget exhausted: {0}")]
    BudgetExhausted(String),
    /// The operation ran and failed (a command exited non-zero, a test failed to build).
    #[error("{0}")]
    Failed(String),
    /// A bug or an unexpected system error. Not shown to the model in detail.
    #[error("internal error: {0}")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl ToolError {
    /// Shorthand for [`ToolError::Invalid`].
    pub fn invalid(m: impl Into<String>) -> Self {
        Self::Invalid(m.into())
    }
    /// Shorthand for [`ToolError::Denied`].
    pub fn denied(m: impl Into<String>) -> Self {
        Self::Denied(m.into())
    }
    /// Shorthand for [`ToolError::NotFound`].
    pub fn not_found(m: impl Into<String>) -> Self {
        Self::NotFound(m.into())
    }
    /// Shorthand for [`ToolError::Conflict`].
    pub fn conflict(m: impl Into<String>) -> Self {
        Self::Conflict(m.into())
    }
    /// Shorthand for [`ToolError::Failed`].
    pub fn failed(m: impl Into<String>) -> Self {
        Self::Failed(m.into())
    }
    /// Shorthand for [`ToolError::Unavailable`].
    pub fn unavailable(m: impl Into<String>) -> Self {
        Self::Unavailable(m.into())
    }
    /// Shorthand for [`ToolError::Timeout`].
    pub fn timeout(m: impl Into<String>) -> Self {
        Self::Timeout(m.into())
    }
    /// An error of `kind` with message `m`: how a client passes on a peer's
    /// failure without losing its kind. [`ErrorKind::Internal`] becomes a
    /// [`ToolError::Internal`] whose detail is `m`.
    pub fn of_kind(kind: ErrorKind, m: impl Into<String>) -> Self {
        let m = m.into();
        match kind {
            ErrorKind::InvalidInput => Self::Invalid(m),
            ErrorKind::NotFound => Self::NotFound(m),
            ErrorKind::Conflict => Self::Conflict(m),
            ErrorKind::Forbidden => Self::Denied(m),
            ErrorKind::Unavailable => Self::Unavailable(m),
            ErrorKind::TimedOut | ErrorKind::Cancelled => Self::Timeout(m),
            ErrorKind::RateLimited => Self::RateLimited(m),
            ErrorKind::BudgetExhausted => Self::BudgetExhausted(m),
            ErrorKind::Failed => Self::Failed(m),
            ErrorKind::Internal => Self::Internal(m.into()),
        }
    }
    /// Wrap an unexpected error.
    pub fn internal(e: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Self::Internal(e.into())
    }

    /// Why it failed, as data: carried in the result's `_meta` and used as
    /// `error.type` on spans.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Invalid(_) => ErrorKind::InvalidInput,
            Self::NotFound(_) => ErrorKind::NotFound,
            Self::Denied(_) => ErrorKind::Forbidden,
            Self::Conflict(_) => ErrorKind::Conflict,
            Self::Unavailable(_) => ErrorKind::Unavailable,
            Self::Timeout(_) => ErrorKind::TimedOut,
            Self::RateLimited(_) => ErrorKind::RateLimited,
            Self::BudgetExhausted(_) => ErrorKind::BudgetExhausted,
            Self::Failed(_) => ErrorKind::Failed,
            Self::Internal(_) => ErrorKind::Internal,
        }
    }
}

/// One content block of a result.
#[derive(Debug, Clone, PartialEq)]
pub enum Content {
    /// Text for the model.
    Text(String),
    /// An image, base64-encoded.
    Image {
        /// Base64 data.
        data: String,
        /// MIME type such as `image/png`.
        mime_type: String,
    },
    /// An embedded resource with binary content, base64-encoded.
    Blob {
        /// The resource's URI.
        uri: String,
        /// Base64 data.
        data: String,
        /// MIME type.
        mime_type: String,
    },
}

impl Content {
    /// Byte size, for the output cap.
    pub fn len(&self) -> usize {
        match self {
            Self::Text(t) => t.len(),
            Self::Image { data, .. } | Self::Blob { data, .. } => data.len(),
        }
    }
    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A finished tool result in mcp-core's own terms.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ToolResponse {
    /// Content blocks.
    pub content: Vec<Content>,
    /// `structuredContent`, matching the tool's `outputSchema`.
    pub structured: Option<Value>,
    /// `Some(kind)` makes this an `isError` result whose `_meta` carries the kind.
    pub error: Option<ErrorKind>,
}

impl ToolResponse {
    /// A plain text success.
    pub fn text(t: impl Into<String>) -> Self {
        Self { content: vec![Content::Text(t.into())], structured: None, error: None }
    }
    /// An error result of `kind` with this message.
    pub fn error(kind: ErrorKind, t: impl Into<String>) -> Self {
        Self { content: vec![Content::Text(t.into())], structured: None, error: Some(kind) }
    }
    /// `isError`.
    pub fn is_error(&self) -> bool {
        self.error.is_some()
    }
    /// Total content size in bytes.
    pub fn size(&self) -> usize {
        self.content.iter().map(Content::len).sum::<usize>()
            + self.structured.as_ref().map_or(0, |v| serde_json::to_string(v).map_or(0, |s| s.len()))
    }
}

/// A typed success: `value` becomes `structuredContent`, and the text block is
/// `text` when given, the value as JSON otherwise.
#[derive(Debug, Clone)]
pub struct Out<T> {
    value: T,
    text: Option<String>,
    extra: Vec<Content>,
}

impl<T> Out<T> {
    /// Structured output whose text block is its JSON.
    pub fn new(value: T) -> Self {
        Self { value, text: None, extra: Vec::new() }
    }
    /// Use a readable text block instead of JSON.
    pub fn text(mut self, text: impl Into<String>) -> Self {
        self.text = Some(text.into());
        self
    }
    /// Add a further content block (an image, say).
    pub fn with(mut self, c: Content) -> Self {
        self.extra.push(c);
        self
    }
}

/// Turns a handler's success value into a [`ToolResponse`], and names its schema.
pub trait IntoToolResponse: Send + 'static {
    /// The `outputSchema`, if the result is structured.
    fn output_schema() -> Option<JsonObject>;
    /// The response.
    fn into_response(self) -> ToolResponse;
}

impl<T: Serialize + JsonSchema + Send + 'static> IntoToolResponse for Out<T> {
    fn output_schema() -> Option<JsonObject> {
        Some(schema_for::<T>(SchemaSettings::draft2020_12().for_serialize()))
    }
    fn into_response(self) -> ToolResponse {
        match serde_json::to_value(&self.value) {
            Ok(v) => {
                let text = self.text.unwrap_or_else(|| v.to_string());
                let mut content = vec![Content::Text(text)];
                content.extend(self.extra);
                ToolResponse { content, structured: Some(v), error: None }
            }
            Err(e) => {
                ToolResponse::error(ErrorKind::Internal, format!("internal error: result did not serialise: {e}"))
            }
        }
    }
}

impl IntoToolResponse for ToolResponse {
    fn output_schema() -> Option<JsonObject> {
        None
    }
    fn into_response(self) -> ToolResponse {
        self
    }
}

/// A JSON schema object for `T`, with the wrapper's own title and description
/// stripped (noise for the model) and a root `type: object` guaranteed.
pub fn schema_for<T: JsonSchema>(settings: SchemaSettings) -> JsonObject {
    let schema = settings.into_generator().into_root_schema_for::<T>();
    let mut obj = match serde_json::to_value(schema) {
        Ok(Value::Object(o)) => o,
        _ => JsonObject::new(),
    };
    obj.remove("title");
    obj.remove("description");
    obj.remove("$schema");
    obj
}

/// Sends one progress notification: `(progress, total, message)`.
pub(crate) type SendProgress = Arc<dyn Fn(f64, Option<f64>, Option<String>) -> BoxFuture<'static, ()> + Send + Sync>;

/// Sends `notifications/progress` for one call, keeping progress increasing.
#[derive(Clone)]
pub struct Progress {
    send: SendProgress,
    last: Arc<std::sync::Mutex<f64>>,
}

impl Progress {
    pub(crate) fn new(send: SendProgress) -> Self {
        Self { send, last: Arc::new(std::sync::Mutex::new(f64::NEG_INFINITY)) }
    }
}

/// What a handler knows about its call besides the arguments.
#[derive(Clone)]
pub struct Ctx {
    pub(crate) caller: Option<crate::auth::Caller>,
    pub(crate) trace_id: Option<String>,
    pub(crate) cancel: CancellationToken,
    pub(crate) progress: Option<Progress>,
    pub(crate) deadline: Instant,
    pub(crate) meta: Arc<JsonObject>,
    pub(crate) session: Option<Arc<str>>,
}

impl Ctx {
    /// A context for calling a handler directly (unit tests, internal reuse).
    pub fn detached(timeout: Duration) -> Self {
        Self {
            caller: None,
            trace_id: None,
            cancel: CancellationToken::new(),
            progress: None,
            deadline: Instant::now() + timeout,
            meta: Arc::new(JsonObject::new()),
            session: None,
        }
    }

    /// The MCP session this call belongs to (`Mcp-Session-Id` of a
    /// 2025-11-25 session), or `None` for a stateless (2026-07-28) request
    /// and a context made outside a request. A server that keeps state per
    /// session (the browser server's browsers) keys it by this.
    pub fn session_id(&self) -> Option<&str> {
        self.session.as_deref()
    }

    /// Who made the call, as the program's authenticator named them
    /// (`None` only for a context made outside a request).
    pub fn caller(&self) -> Option<&crate::auth::Caller> {
        self.caller.as_ref()
    }

    /// The call's trace id (lowercase hex), for messages and records.
    pub fn trace_id(&self) -> Option<&str> {
        self.trace_id.as_deref()
    }

    /// Resolves when the client cancels the call or its deadline passes.
    pub async fn cancelled(&self) {
        self.cancel.cancelled().await
    }

    /// True once cancelled.
    pub fn is_cancelled(&self) -> bool {
        self.cancel.is_cancelled()
    }

    /// A token that is cancelled with the call, for child tasks.
    pub fn cancellation(&self) -> CancellationToken {
        self.cancel.clone()
    }

    /// When the call times out.
    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// Time left before the call times out.
    pub fn remaining(&self) -> Duration {
        self.deadline.saturating_duration_since(Instant::now())
    }

    /// Whether the caller asked for progress notifications.
    pub fn wants_progress(&self) -> bool {
        self.progress.is_some()
    }

    /// Report progress (ignored unless the caller sent a progress token, and
    /// when not greater than the last value, as the protocol requires).
    pub async fn progress(&self, progress: f64, total: Option<f64>, message: Option<String>) {
        let Some(p) = &self.progress else { return };
        {
            let Ok(mut last) = p.last.lock() else { return };
            if progress <= *last {
                return;
            }
            *last = progress;
        }
        (p.send)(progress, total, message).await;
    }

    /// A value from the request's `_meta`.
    pub fn meta(&self, key: &str) -> Option<&Value> {
        self.meta.get(key)
    }
}

/// How a tool is called: its arguments and the call's context in, its
/// response out. What [`ToolSource`] hands back for a tool it resolves.
pub type Handler = Arc<dyn Fn(Value, Ctx) -> BoxFuture<'static, ToolResponse> + Send + Sync>;

/// Tools that are not known when the program is built and may differ per
/// caller — the gateway's catalogue, merged from its upstreams and filtered
/// by the caller's role. The server lists them after its own tools and calls
/// them through the same span, metrics, time limit, output cap, cancellation
/// and panic containment as its own; a name it registered itself always
/// wins. A tool a caller may not use is neither listed nor resolved for it,
/// so it is not callable either — the fleet's hidden-tool rule.
pub trait ToolSource: Send + Sync + 'static {
    /// The tools `caller` may use now.
    fn list(&self, caller: &crate::auth::Caller) -> BoxFuture<'_, Vec<ToolDef>>;
    /// The tool `name` for `caller`: its definition and its handler, or
    /// `None` when this caller has no such tool.
    fn resolve(&self, caller: &crate::auth::Caller, name: &str) -> BoxFuture<'_, Option<(ToolDef, Handler)>>;
}

/// A tool's definition, independent of any state.
#[derive(Clone)]
pub struct ToolDef {
    /// Unique name (`[a-z0-9_]+`).
    pub name: String,
    /// Human-readable title.
    pub title: Option<String>,
    /// What it does, for the model.
    pub description: String,
    /// Behaviour hints.
    pub annotations: Annotations,
    /// JSON schema of the arguments.
    pub input_schema: JsonObject,
    /// JSON schema of `structuredContent`, when structured.
    pub output_schema: Option<JsonObject>,
    /// A timeout longer or shorter than the server default.
    pub timeout: Option<Duration>,
}

/// A tool bound to server state `S`.
pub struct Tool<S> {
    pub(crate) def: ToolDef,
    pub(crate) handler: Arc<dyn Fn(Arc<S>, Value, Ctx) -> BoxFuture<'static, ToolResponse> + Send + Sync>,
}

impl<S: Send + Sync + 'static> Tool<S> {
    /// This tool's handler bound to `state`: what the server calls for a
    /// registered tool (argument decoding, error conversion), for a program
    /// that serves the tool another way (the gateway's per-caller source).
    pub fn bind(&self, state: Arc<S>) -> Handler {
        let h = self.handler.clone();
        Arc::new(move |args, ctx| h(state.clone(), args, ctx))
    }

    /// Define a tool. `A` is the argument type (its `///` field docs are the
    /// schema text the model reads); the handler returns [`Out<T>`] for
    /// structured results or [`ToolResponse`] for free-form ones.
    ///
    /// # Panics
    /// When `name` is not `[a-z0-9_]{1,64}` or the argument schema is not an
    /// object: both are programming errors caught by the first test.
    pub fn new<A, R, F, Fut>(name: &str, description: impl Into<String>, annotations: Annotations, f: F) -> Self
    where
        A: DeserializeOwned + JsonSchema + Send + 'static,
        R: IntoToolResponse,
        F: Fn(Arc<S>, A, Ctx) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<R, ToolError>> + Send + 'static,
    {
        assert!(
            !name.is_empty()
                && name.len() <= 64
                && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'),
            "tool name {name:?} must be [a-z0-9_]{{1,64}}"
        );
        let input_schema = schema_for::<A>(SchemaSettings::draft2020_12());
        assert_eq!(
            input_schema.get("type"),
            Some(&Value::String("object".into())),
            "{name}: arguments must be a struct"
        );
        let tool_name = name.to_owned();
        let f = Arc::new(f);
        let handler = Arc::new(move |state: Arc<S>, args: Value, ctx: Ctx| -> BoxFuture<'static, ToolResponse> {
            let f = f.clone();
            let tool_name = tool_name.clone();
            Box::pin(async move {
                let args: A = match serde_json::from_value(args) {
                    Ok(a) => a,
                    Err(e) => {
                        return ToolResponse::error(
                            ErrorKind::InvalidInput,
                            format!(
                                "invalid arguments for {tool_name}: {e}. Check the tool's inputSchema and call again."
                            ),
                        );
                    }
                };
                let trace_id = ctx.trace_id.clone();
                match f(state, args, ctx).await {
                    Ok(r) => r.into_response(),
                    Err(e) => error_response(&tool_name, &e, trace_id.as_deref()),
                }
            })
        });
        Self {
            def: ToolDef {
                name: name.to_owned(),
                title: None,
                description: description.into(),
                annotations,
                input_schema,
                output_schema: R::output_schema(),
                timeout: None,
            },
            handler,
        }
    }

    /// A human-readable title.
    pub fn title(mut self, title: impl Into<String>) -> Self {
        self.def.title = Some(title.into());
        self
    }

    /// A timeout different from the server default (long builds, long polls).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.def.timeout = Some(timeout);
        self
    }

    /// The definition.
    pub fn def(&self) -> &ToolDef {
        &self.def
    }
}

/// Run blocking work (file systems, libgit2, SQLite through a C library) on
/// tokio's blocking pool, off the async threads; a panic in `f` becomes an
/// internal error instead of taking the call down.
pub async fn blocking<T, F>(f: F) -> Result<T, ToolError>
where
    F: FnOnce() -> Result<T, ToolError> + Send + 'static,
    T: Send + 'static,
{
    tokio::task::spawn_blocking(f).await.map_err(ToolError::internal)?
}

/// The `isError` result for a failed call. Internal errors are logged with
/// their detail and shown to the model only as a pointer to the log.
pub(crate) fn error_response(tool: &str, e: &ToolError, trace_id: Option<&str>) -> ToolResponse {
    match e {
        ToolError::Internal(detail) => {
            tracing::error!(tool, error = %detail, "tool failed with an internal error");
            ToolResponse::error(
                ErrorKind::Internal,
                format!(
                    "internal error in {tool}; the details are in the server log{}. This is not caused by your arguments; retrying may help.",
                    trace_id.map(|t| format!(" under trace_id {t}")).unwrap_or_default()
                ),
            )
        }
        other => ToolResponse::error(other.kind(), other.to_string()),
    }
}
