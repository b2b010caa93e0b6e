#!/bin/sh
# Entrypoint of mcp-fleet/llm: start `ollama serve`, wait until it answers,
# pull LLM_MODEL unless the volume already has it (the first start downloads
# gigabytes; later starts take seconds), then stay in the foreground with the
# server. The health check (healthcheck.sh) reports healthy only once the
# model is there, so compose's `--wait` and depends_on wait for the pull.
set -eu

model=${LLM_MODEL:?LLM_MODEL is required, e.g. qwen2.5-coder:7b}

ollama serve &
server=$!
trap 'kill -TERM "$server" 2>/dev/null; wait "$server"; exit 0' TERM INT

i=0
until ollama list >/dev/null 2>&1; do
    i=$((i + 1))
    if [ "$i" -gt 120 ] || ! kill -0 "$server" 2>/dev/null; then
        echo "llm: ollama serve did not come up" >&2
        exit 1
    fi
    sleep 1
done

if ollama show "$model" >/dev/null 2>&1; then
    echo "llm: $model is in the volume"
else
    echo "llm: pulling $model (first start; this takes a while)"
    # Retried: a dropped download resumes where it stopped.
    n=0
    until ollama pull "$model"; do
        n=$((n + 1))
        if [ "$n" -ge 5 ]; then
            echo "llm: cannot pull $model" >&2
            exit 1
        fi
        sleep $((n * 10))
    done
fi
echo "llm: serving $model on $OLLAMA_HOST"
wait "$server"
