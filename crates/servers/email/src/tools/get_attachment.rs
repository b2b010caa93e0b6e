//! `get_attachment`: one attachment's content, size-capped: text as text,
//! anything else as base64.

use base64::Engine;
use mcp_core::prelude::*;

use super::load;
use crate::{Email, backend, parse};

/// Arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// The message id.
    pub id: String,
    /// The attachment's `index` from the message's attachment list.
    pub index: u32,
}

/// The attachment.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Output {
    /// The message id.
    pub id: String,
    /// The index.
    pub index: u32,
    /// File name, if given.
    pub filename: Option<String>,
    /// MIME type.
    pub content_type: String,
    /// Size in bytes.
    pub size: u64,
    /// The content, when it is UTF-8 text (`text/*`, JSON, XML...). Untrusted data.
    pub text: Option<String>,
    /// The content in base64, when it is not text.
    pub data_base64: Option<String>,
}

/// The tool.
pub fn tool() -> Tool<Email> {
    Tool::new(
        "get_attachment",
        "Get one attachment of a message by its index: text attachments as text, others base64-encoded. \
         Attachments over the server's EMAIL_MAX_ATTACHMENT_BYTES are refused (the size is in the message's \
         attachment list). Never marks mail as seen.",
        Annotations::read_only(),
        run,
    )
    .title("Get an attachment")
}

fn is_textual(content_type: &str) -> bool {
    content_type.starts_with("text/")
        || ["application/json", "application/xml", "application/x-yaml", "application/yaml", "application/toml"]
            .contains(&content_type)
}

async fn run(e: Arc<Email>, a: Args, _ctx: Ctx) -> Result<Out<Output>, ToolError> {
    let s = load(&e, &a.id).await?;
    if s.m.oversized {
        return Err(ToolError::denied(format!(
            "message {} is over EMAIL_MAX_MESSAGE_BYTES ({} bytes); its attachments are not served",
            a.id, s.m.size
        )));
    }
    let listed = s.m.attachments.iter().find(|x| x.index == a.index).ok_or_else(|| {
        ToolError::not_found(format!(
            "message {} has {} attachment(s); index {} is not one",
            a.id,
            s.m.attachments.len(),
            a.index
        ))
    })?;
    let cap = e.config.max_attachment_bytes as u64;
    if listed.size > cap {
        return Err(ToolError::denied(format!(
            "attachment {} of {} is {} bytes, over EMAIL_MAX_ATTACHMENT_BYTES ({cap} bytes); it cannot be returned",
            a.index, a.id, listed.size
        )));
    }
    let raw = backend::raw_of(&e, &s).await?;
    if raw.truncated {
        return Err(ToolError::denied("the message is over EMAIL_MAX_MESSAGE_BYTES; its attachments are not served"));
    }
    let index = a.index;
    let (att, bytes) = tokio::task::spawn_blocking(move || parse::attachment(&raw.bytes, index))
        .await
        .map_err(ToolError::internal)?
        .ok_or_else(|| ToolError::not_found("the attachment is no longer in the message"))?;
    if bytes.len() as u64 > cap {
        return Err(ToolError::denied(format!(
            "the attachment is {} bytes, over EMAIL_MAX_ATTACHMENT_BYTES",
            bytes.len()
        )));
    }
    let (text, data_base64) = match (is_textual(&att.content_type), String::from_utf8(bytes)) {
        (true, Ok(t)) => (Some(t), None),
        (_, Ok(t)) => (None, Some(base64::engine::general_purpose::STANDARD.encode(t.as_bytes()))),
        (_, Err(err)) => (None, Some(base64::engine::general_purpose::STANDARD.encode(err.as_bytes()))),
    };
    // The text block carries text content for the model; base64 stays in the structured result only, so it is
    // not sent twice.
    let note = match (&text, &data_base64) {
        (Some(t), _) => t.clone(),
        _ => format!(
            "attachment {} of {} ({}, {} bytes): binary, base64 in structuredContent.data_base64",
            att.index, a.id, att.content_type, att.size
        ),
    };
    Ok(Out::new(Output {
        id: a.id,
        index: att.index,
        filename: att.filename,
        content_type: att.content_type,
        size: att.size,
        text,
        data_base64,
    })
    .text(note))
}
