//! Files under the roots as MCP resources: `file://` URIs, listed page by page
//! (a bounded, `.gitignore`-aware walk of every root), read as text or blob,
//! with the template `file:///{+path}`.

use std::io::Read;
use std::sync::Arc;

use futures::future::BoxFuture;
use mcp_core::ToolError;
use mcp_core::resource::{ResourceBody, ResourceInfo, ResourcePage, ResourceTemplateInfo, Resources};
use rustix::fs::OFlags;

use crate::sandbox::{Kind, os_error};
use crate::tools::read_file::{looks_binary, sniff_image};
use crate::walk::{Options, walk};
use crate::{Fs, blocking};

/// Resources per page.
const PAGE: usize = 200;

/// The resource provider.
pub struct FileResources {
    fs: Arc<Fs>,
}

impl FileResources {
    /// A provider over the server's state.
    pub fn new(fs: Arc<Fs>) -> Self {
        Self { fs }
    }
}

/// `file:///a/b c` for an absolute path (percent-encoding what URIs forbid).
pub fn file_uri(abs: &std::path::Path) -> String {
    let mut s = String::from("file://");
    for b in abs.as_os_str().as_encoded_bytes() {
        match *b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'/' | b'-' | b'.' | b'_' | b'~' => s.push(*b as char),
            other => s.push_str(&format!("%{other:02X}")),
        }
    }
    s
}

/// The path inside a `file://` URI.
pub fn uri_path(uri: &str) -> Result<String, ToolError> {
    let rest = uri.strip_prefix("file://").ok_or_else(|| ToolError::invalid(format!("{uri} is not a file:// URI")))?;
    let rest = rest.strip_prefix("localhost").unwrap_or(rest);
    let mut out = Vec::with_capacity(rest.len());
    let b = rest.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = rest.get(i + 1..i + 3).ok_or_else(|| ToolError::invalid("bad percent-encoding in URI"))?;
            out.push(u8::from_str_radix(hex, 16).map_err(|_| ToolError::invalid("bad percent-encoding in URI"))?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| ToolError::invalid("the URI's path is not UTF-8"))
}

impl Resources for FileResources {
    fn list(&self, cursor: Option<String>) -> BoxFuture<'_, Result<ResourcePage, ToolError>> {
        let fs = self.fs.clone();
        Box::pin(async move {
            let skip: usize = match cursor {
                None => 0,
                Some(c) => c.parse().map_err(|_| ToolError::invalid("invalid cursor"))?,
            };
            blocking(move || {
                let mut items = Vec::new();
                let mut seen = 0usize;
                let mut more = false;
                for root in fs.sandbox.roots() {
                    let Ok(dir) = fs.sandbox.root_dir(root) else { continue };
                    let opts =
                        Options { max_depth: 64, gitignore: true, exclude: None, limit: fs.config.max_walk_entries };
                    walk(dir, &root.path, &opts, &mut |e| {
                        if e.kind != Kind::File {
                            return true;
                        }
                        seen += 1;
                        if seen <= skip {
                            return true;
                        }
                        if items.len() == PAGE {
                            more = true;
                            return false;
                        }
                        let abs = root.path.join(&e.rel);
                        items.push(ResourceInfo {
                            uri: file_uri(&abs),
                            name: e.rel.display().to_string(),
                            description: None,
                            mime_type: None,
                            size: Some(e.stat.st_size as u64),
                        });
                        true
                    });
                    if more {
                        break;
                    }
                }
                let next = more.then(|| (skip + items.len()).to_string());
                Ok((items, next))
            })
            .await
        })
    }

    fn templates(&self) -> Vec<ResourceTemplateInfo> {
        vec![ResourceTemplateInfo {
            uri_template: "file:///{+path}".into(),
            name: "file".into(),
            description: Some("Any file under the server's roots, by absolute path".into()),
            mime_type: None,
        }]
    }

    fn read(&self, uri: String) -> BoxFuture<'_, Result<Vec<ResourceBody>, ToolError>> {
        let fs = self.fs.clone();
        Box::pin(async move {
            let path = uri_path(&uri)?;
            blocking(move || {
                let r = fs.sandbox.existing(&path)?;
                let fd = fs.sandbox.open(&r, OFlags::RDONLY).map_err(|e| os_error(e, &path))?;
                let st = rustix::fs::fstat(&fd).map_err(|e| os_error(e, &path))?;
                if Kind::of(&st) != Kind::File {
                    return Err(ToolError::invalid(format!("{path} is not a regular file")));
                }
                let cap = fs.config.max_read_bytes as u64;
                if st.st_size as u64 > cap {
                    return Err(ToolError::invalid(format!(
                        "{path} is {} bytes, over the {cap}-byte resource limit; read it in parts with read_file",
                        st.st_size
                    )));
                }
                let mut bytes = Vec::with_capacity(st.st_size as usize);
                std::fs::File::from(fd).take(cap).read_to_end(&mut bytes).map_err(ToolError::internal)?;
                let head = &bytes[..bytes.len().min(8192)];
                if !looks_binary(head)
                    && sniff_image(head).is_none()
                    && let Ok(text) = std::str::from_utf8(&bytes)
                {
                    return Ok(vec![ResourceBody::Text {
                        uri,
                        mime_type: Some("text/plain".into()),
                        text: text.to_owned(),
                    }]);
                }
                let mime = sniff_image(head).unwrap_or("application/octet-stream").to_owned();
                Ok(vec![ResourceBody::Blob { uri, mime_type: Some(mime), bytes }])
            })
            .await
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uri_round_trip() {
        let p = std::path::Path::new("/srv/a b/ü%.txt");
        let u = file_uri(p);
        assert_eq!(u, "file:///srv/a%20b/%C3%BC%25.txt");
        assert_eq!(uri_path(&u).unwrap(), "/srv/a b/ü%.txt");
        assert!(uri_path("http://x").is_err());
        assert!(uri_path("file:///%zz").is_err());
    }
}
