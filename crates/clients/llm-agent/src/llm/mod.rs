//! LLM providers behind one trait: [`Llm`]. A provider extracts a [`Draft`]
//! from a message and, when it is a real model, holds a tool-calling chat for
//! the LLM steps. It never decides completeness or what to do next: that is
//! the agent's deterministic code ([`crate::spec`], [`crate::intake`]).

pub mod openai;
pub mod rules;

use std::future::Future;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::config::ProviderConfig;
use crate::spec::Draft;

/// Tokens spent.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Usage {
    /// Prompt tokens.
    pub input_tokens: u64,
    /// Completion tokens.
    pub output_tokens: u64,
}

impl Usage {
    /// Add another call's tokens.
    pub fn add(&mut self, o: Usage) {
        self.input_tokens += o.input_tokens;
        self.output_tokens += o.output_tokens;
    }
    /// Both together.
    pub fn total(&self) -> u64 {
        self.input_tokens + self.output_tokens
    }
}

/// What a message asks for, as the provider read it.
#[derive(Debug, Clone, Default)]
pub struct Extraction {
    /// The fields it states.
    pub draft: Draft,
    /// The provider's own reason to refuse (a model may notice what the screen does not).
    pub refuse: Option<String>,
    /// Tokens spent.
    pub usage: Usage,
    /// Remarks for the decision log (e.g. "malformed model output; used the rules extractor").
    pub notes: Vec<String>,
}

/// A message to read.
#[derive(Debug, Clone, Copy)]
pub struct ExtractInput<'a> {
    /// Subject.
    pub subject: &'a str,
    /// The new text of the message (quoted history removed).
    pub text: &'a str,
    /// Fields asked about in the last questions, if this is an answer.
    pub asked: &'a [String],
    /// What is already known.
    pub known: &'a Draft,
}

/// One model turn of a tool-calling chat.
#[derive(Debug, Clone, Default)]
pub struct Turn {
    /// Text, when the model answered in words.
    pub content: Option<String>,
    /// Tool calls it asks for.
    pub tool_calls: Vec<ToolCall>,
    /// Tokens spent.
    pub usage: Usage,
    /// The assistant message as the API returned it (sent back in the next request).
    pub message: Value,
}

/// A tool call proposed by the model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolCall {
    /// The API's id, to answer with a `tool` message.
    pub id: String,
    /// Function name.
    pub name: String,
    /// Its arguments as the model wrote them (JSON text, not yet trusted).
    pub arguments: String,
}

/// Provider failures.
#[derive(Debug, thiserror::Error)]
pub enum LlmError {
    /// The provider cannot do this (the rules provider holds no chat).
    #[error("the {0} provider cannot {1}")]
    Unsupported(&'static str, &'static str),
    /// The endpoint could not be reached or kept failing.
    #[error("model endpoint unavailable: {0}")]
    Unavailable(String),
    /// The endpoint refused the request (4xx other than 429).
    #[error("model endpoint refused the request: {0}")]
    Refused(String),
    /// The response did not have the documented shape.
    #[error("malformed model response: {0}")]
    Malformed(String),
}

/// What every provider does.
pub trait Llm: Send + Sync {
    /// `rules` or `openai`.
    fn name(&self) -> &'static str;
    /// The model, when there is one.
    fn model(&self) -> Option<&str>;
    /// Whether it can write code (hold a tool-calling chat).
    fn can_code(&self) -> bool;
    /// Read a message.
    fn extract(&self, input: ExtractInput<'_>) -> impl Future<Output = Result<Extraction, LlmError>> + Send;
    /// One chat turn with tools (OpenAI function definitions), at most `max_tokens` of output.
    fn chat(
        &self,
        messages: &[Value],
        tools: &[Value],
        max_tokens: u64,
    ) -> impl Future<Output = Result<Turn, LlmError>> + Send;
}

/// The configured provider.
pub enum Provider {
    /// Built in.
    Rules(rules::Rules),
    /// OpenAI-compatible.
    OpenAi(openai::OpenAi),
}

impl Provider {
    /// From configuration.
    pub fn new(c: &ProviderConfig) -> Result<Self, String> {
        Ok(match c {
            ProviderConfig::Rules => Self::Rules(rules::Rules),
            ProviderConfig::OpenAi { base_url, model, api_key, timeout, max_attempts } => {
                Self::OpenAi(openai::OpenAi::new(base_url, model, api_key.clone(), *timeout, *max_attempts)?)
            }
        })
    }
}

impl Llm for Provider {
    fn name(&self) -> &'static str {
        match self {
            Self::Rules(p) => p.name(),
            Self::OpenAi(p) => p.name(),
        }
    }
    fn model(&self) -> Option<&str> {
        match self {
            Self::Rules(p) => p.model(),
            Self::OpenAi(p) => p.model(),
        }
    }
    fn can_code(&self) -> bool {
        match self {
            Self::Rules(p) => p.can_code(),
            Self::OpenAi(p) => p.can_code(),
        }
    }
    async fn extract(&self, input: ExtractInput<'_>) -> Result<Extraction, LlmError> {
        match self {
            Self::Rules(p) => p.extract(input).await,
            Self::OpenAi(p) => p.extract(input).await,
        }
    }
    async fn chat(&self, messages: &[Value], tools: &[Value], max_tokens: u64) -> Result<Turn, LlmError> {
        match self {
            Self::Rules(p) => p.chat(messages, tools, max_tokens).await,
            Self::OpenAi(p) => p.chat(messages, tools, max_tokens).await,
        }
    }
}
