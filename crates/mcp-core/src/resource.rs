//! MCP resources in mcp-core's own terms: a server that exposes data as
//! resources (the fs server's `file://` tree) implements [`Resources`].

use futures::future::BoxFuture;

use crate::tool::ToolError;

/// One listed resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceInfo {
    /// The resource URI (`file:///srv/projects/app/README.md`).
    pub uri: String,
    /// Short name.
    pub name: String,
    /// What it is.
    pub description: Option<String>,
    /// MIME type, when known.
    pub mime_type: Option<String>,
    /// Size in bytes, when known.
    pub size: Option<u64>,
}

/// A URI template (RFC 6570) clients can fill in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceTemplateInfo {
    /// The template, e.g. `file:///{path}`.
    pub uri_template: String,
    /// Short name.
    pub name: String,
    /// What it addresses.
    pub description: Option<String>,
    /// MIME type, when uniform.
    pub mime_type: Option<String>,
}

/// A resource's content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResourceBody {
    /// UTF-8 text.
    Text {
        /// URI.
        uri: String,
        /// MIME type.
        mime_type: Option<String>,
        /// The text.
        text: String,
    },
    /// Binary data.
    Blob {
        /// URI.
        uri: String,
        /// MIME type.
        mime_type: Option<String>,
        /// The bytes.
        bytes: Vec<u8>,
    },
}

/// A page of resources and the cursor for the next one.
pub type ResourcePage = (Vec<ResourceInfo>, Option<String>);

/// A server's resources.
pub trait Resources: Send + Sync + 'static {
    /// One page of resources, starting at `cursor`.
    fn list(&self, cursor: Option<String>) -> BoxFuture<'_, Result<ResourcePage, ToolError>>;
    /// The URI templates.
    fn templates(&self) -> Vec<ResourceTemplateInfo>;
    /// Read one resource. [`ToolError::NotFound`] and [`ToolError::Invalid`]
    /// become the protocol's resource-not-found and invalid-params errors.
    fn read(&self, uri: String) -> BoxFuture<'_, Result<Vec<ResourceBody>, ToolError>>;

    /// [`Resources::list`] for one caller. A server whose resources differ
    /// per caller (the gateway's, under a key's globs) overrides this and
    /// the two below; the server always calls these.
    fn list_for(
        &self,
        _caller: &crate::auth::Caller,
        cursor: Option<String>,
    ) -> BoxFuture<'_, Result<ResourcePage, ToolError>> {
        self.list(cursor)
    }
    /// [`Resources::templates`] for one caller.
    fn templates_for(&self, _caller: &crate::auth::Caller) -> Vec<ResourceTemplateInfo> {
        self.templates()
    }
    /// [`Resources::read`] for one caller; a resource the caller may not
    /// read is [`ToolError::NotFound`], like one that does not exist.
    fn read_for(
        &self,
        _caller: &crate::auth::Caller,
        uri: String,
    ) -> BoxFuture<'_, Result<Vec<ResourceBody>, ToolError>> {
        self.read(uri)
    }
}
