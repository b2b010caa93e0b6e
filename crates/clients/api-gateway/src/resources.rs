//! The upstreams' resources behind the gateway's `/mcp`, as tools are:
//! one namespace, filtered per caller.
//!
//! A resource of upstream `fs` at `file:///projects/a.txt` is listed and
//! read here as `fs+file:///projects/a.txt` (the `{server}+{uri}` form
//! agentgateway uses: a URI scheme may contain `+`, and clients treat URIs
//! as opaque), templates likewise. Listing walks the upstreams in order, one
//! upstream page per answer; the cursor says which upstream and which of its
//! cursors comes next.
//!
//! Who may read: resources are data, so a viewer may — unless a key's globs
//! say otherwise. For globs, an upstream's resources count as the name
//! `{server}__resources`: a key denied `fs__*` (or allowed only `git__*`)
//! sees no fs resource, and reading one answers "not found", as a hidden
//! tool answers "unknown tool".

use std::sync::{Arc, RwLock};

use base64::Engine as _;
use futures::future::BoxFuture;
use mcp_core::auth::{Caller, Role};
use mcp_core::resource::{ResourceBody, ResourcePage, ResourceTemplateInfo, Resources};
use mcp_core::{ClientError, ToolError};
use serde::{Deserialize, Serialize};

use crate::Gateway;
use crate::catalogue::Link;

/// The glob name an upstream's resources answer to.
pub fn glob_name(server: &str) -> String {
    format!("{server}__resources")
}

/// Where the next page comes from.
#[derive(Serialize, Deserialize)]
struct Cursor {
    /// Index of the upstream in configuration order.
    u: usize,
    /// That upstream's own cursor.
    c: Option<String>,
}

fn encode(c: &Cursor) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(serde_json::to_vec(c).unwrap_or_default())
}

fn decode(s: &str) -> Result<Cursor, ToolError> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(s.as_bytes())
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or_else(|| ToolError::invalid("invalid cursor: pass the nextCursor of the previous page unchanged"))
}

/// The upstreams' resources, per caller.
pub struct GatewayResources {
    state: Arc<Gateway>,
}

/// The upstreams' templates, refreshed with the catalogue (listing templates
/// is synchronous in mcp-core's `Resources`).
#[derive(Default)]
pub struct Templates(RwLock<Vec<(String, ResourceTemplateInfo)>>);

impl Templates {
    /// Fetch every up upstream's templates, each bounded by the list timeout;
    /// an upstream that fails keeps its previous templates.
    pub async fn refresh(&self, state: &Gateway) {
        let up: Vec<Arc<Link>> = state
            .catalogue
            .links()
            .iter()
            .filter(|l| state.servers().iter().any(|s| s.name == l.name && s.state == "up"))
            .cloned()
            .collect();
        let fetched = futures::future::join_all(up.iter().map(|l| async move {
            let r = tokio::time::timeout(state.config.list_timeout, l.client.list_resource_templates()).await;
            (l.name.clone(), r)
        }))
        .await;
        let Ok(mut all) = self.0.write() else { return };
        for (name, r) in fetched {
            if let Ok(Ok(templates)) = r {
                all.retain(|(n, _)| *n != name);
                all.extend(templates.into_iter().map(|t| (name.clone(), t)));
            }
        }
        let configured: Vec<&str> = state.catalogue.links().iter().map(|l| l.name.as_str()).collect();
        all.retain(|(n, _)| configured.contains(&n.as_str()));
    }
}

impl GatewayResources {
    /// Over the gateway's state.
    pub fn new(state: Arc<Gateway>) -> Self {
        Self { state }
    }

    fn may_read(&self, caller: &Caller, server: &str) -> bool {
        self.state.globs.view(&self.state.keys, caller).allows(&glob_name(server), Role::Viewer)
    }

    fn link(&self, server: &str) -> Option<Arc<Link>> {
        self.state.catalogue.links().iter().find(|l| l.name == server).cloned()
    }

    async fn page(&self, caller: Caller, cursor: Option<String>) -> Result<ResourcePage, ToolError> {
        let mut at = match cursor.as_deref() {
            Some(c) => decode(c)?,
            None => Cursor { u: 0, c: None },
        };
        let links = self.state.catalogue.links().to_vec();
        let up: Vec<String> = self.state.servers().into_iter().filter(|s| s.state == "up").map(|s| s.name).collect();
        while at.u < links.len() {
            let l = &links[at.u];
            if self.may_read(&caller, &l.name) && up.contains(&l.name) {
                let r =
                    tokio::time::timeout(self.state.config.list_timeout, l.client.list_resources(at.c.clone())).await;
                if let Ok(Ok((items, next))) = r {
                    let next = match next {
                        Some(c) => Some(Cursor { u: at.u, c: Some(c) }),
                        None => (at.u + 1 < links.len()).then_some(Cursor { u: at.u + 1, c: None }),
                    };
                    if !items.is_empty() {
                        let items = items
                            .into_iter()
                            .map(|mut i| {
                                i.uri = format!("{}+{}", l.name, i.uri);
                                i.name = format!("{}__{}", l.name, i.name);
                                i
                            })
                            .collect();
                        return Ok((items, next.as_ref().map(encode)));
                    }
                    match next {
                        Some(n) => {
                            at = n;
                            continue;
                        }
                        None => break,
                    }
                }
            }
            at = Cursor { u: at.u + 1, c: None };
        }
        Ok((Vec::new(), None))
    }

    async fn read_one(&self, caller: Caller, uri: String) -> Result<Vec<ResourceBody>, ToolError> {
        let not_found = || ToolError::not_found(format!("no resource {uri}"));
        let (server, inner) = uri.split_once('+').ok_or_else(not_found)?;
        let link = self.link(server).ok_or_else(not_found)?;
        if !self.may_read(&caller, server) {
            return Err(not_found());
        }
        let prefix = |u: String| format!("{server}+{u}");
        match link.client.read_resource(inner).await {
            Ok(bodies) => Ok(bodies
                .into_iter()
                .map(|b| match b {
                    ResourceBody::Text { uri, mime_type, text } => {
                        ResourceBody::Text { uri: prefix(uri), mime_type, text }
                    }
                    ResourceBody::Blob { uri, mime_type, bytes } => {
                        ResourceBody::Blob { uri: prefix(uri), mime_type, bytes }
                    }
                })
                .collect()),
            // The protocol's resource-not-found (-32002) and invalid params
            // stay what they were; anything else is the upstream's trouble.
            Err(ClientError::Protocol { code: -32002, .. }) => Err(not_found()),
            Err(ClientError::Protocol { code: -32602, message }) => Err(ToolError::invalid(message)),
            Err(e) => Err(ToolError::unavailable(format!("{server}: {}", crate::catalogue::describe(&e)))),
        }
    }
}

impl Resources for GatewayResources {
    fn list(&self, cursor: Option<String>) -> BoxFuture<'_, Result<ResourcePage, ToolError>> {
        // Never reached: the server always asks with a caller (`list_for`).
        Box::pin(
            self.page(Caller { subject: "nobody".into(), role: Role::Viewer, key_id: Some(String::new()) }, cursor),
        )
    }

    fn templates(&self) -> Vec<ResourceTemplateInfo> {
        Vec::new()
    }

    fn read(&self, uri: String) -> BoxFuture<'_, Result<Vec<ResourceBody>, ToolError>> {
        Box::pin(async move { Err(ToolError::not_found(format!("no resource {uri}"))) })
    }

    fn list_for(&self, caller: &Caller, cursor: Option<String>) -> BoxFuture<'_, Result<ResourcePage, ToolError>> {
        Box::pin(self.page(caller.clone(), cursor))
    }

    fn templates_for(&self, caller: &Caller) -> Vec<ResourceTemplateInfo> {
        let Ok(all) = self.state.resource_templates.0.read() else { return Vec::new() };
        all.iter()
            .filter(|(server, _)| self.may_read(caller, server))
            .map(|(server, t)| ResourceTemplateInfo {
                uri_template: format!("{server}+{}", t.uri_template),
                name: format!("{server}__{}", t.name),
                description: t.description.clone(),
                mime_type: t.mime_type.clone(),
            })
            .collect()
    }

    fn read_for(&self, caller: &Caller, uri: String) -> BoxFuture<'_, Result<Vec<ResourceBody>, ToolError>> {
        Box::pin(self.read_one(caller.clone(), uri))
    }
}
