#!/bin/sh
# Health of mcp-fleet/llm: the server answers and LLM_MODEL is pulled, so
# "healthy" means the agent's first request will not wait for a download.
set -eu
ollama show "${LLM_MODEL:?}" >/dev/null 2>&1
