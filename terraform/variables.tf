# Inputs of the fleet on a Docker host. The defaults mirror .env.example;
# the secrets have no defaults and are marked sensitive (pass them with
# TF_VAR_* or a git-ignored *.tfvars file — they also end up in the state,
# so keep the state encrypted and private).

# --- where ---------------------------------------------------------------
variable "docker_host" {
  description = "Docker daemon to run on: unix:///var/run/docker.sock, or ssh://user@host for a remote one."
  type        = string
  default     = "unix:///var/run/docker.sock"
}

variable "docker_ssh_opts" {
  description = "Extra ssh options for an ssh:// docker_host, e.g. [\"-o\", \"StrictHostKeyChecking=yes\"]."
  type        = list(string)
  default     = []
}

variable "project" {
  description = "Prefix of every container, volume and network name."
  type        = string
  default     = "mcp-fleet"
}

variable "fleet_dir" {
  description = "Path of the repository's clone on the Docker host (bind mounts: templates/, monitoring/, docker/postgres/initdb)."
  type        = string
}

variable "projects_dir" {
  description = "Projects folder on the Docker host, mounted at /projects in fs, git and shell; writable by fleet_uid."
  type        = string
}

variable "fleet_tag" {
  description = "Tag of the mcp-fleet/* images, which must exist on the host (cargo xtask images there)."
  type        = string
  default     = "latest"
}

variable "docker_gid" {
  description = "Group id of the Docker Engine's socket on the host (stat -c %g /var/run/docker.sock); the docker server joins it."
  type        = string
  default     = "0"
}

variable "fleet_uid" {
  description = "uid:gid the fs, git and shell servers run as (the owner of projects_dir)."
  type        = string
  default     = "10001:10001"
}

# --- published ports -------------------------------------------------------
variable "bind_addr" {
  description = "Host address the published ports bind to."
  type        = string
  default     = "127.0.0.1"
}

variable "prometheus_port" {
  description = "Host port of Prometheus."
  type        = number
  default     = 9090
}

variable "grafana_port" {
  description = "Host port of Grafana."
  type        = number
  default     = 3000
}

variable "mail_imap_port" {
  description = "Host port of the dev mail server's IMAP."
  type        = number
  default     = 1143
}

variable "mail_smtp_port" {
  description = "Host port of the dev mail server's SMTP."
  type        = number
  default     = 2525
}

variable "mail_submission_port" {
  description = "Host port of the dev mail server's submission (SMTP with login)."
  type        = number
  default     = 1587
}

variable "gateway_port" {
  description = "Host port of the api-gateway (REST API, web UI under /ui, MCP under /mcp)."
  type        = number
  default     = 8203
}

# --- behaviour -------------------------------------------------------------
variable "mail_domain" {
  description = "Domain of the dev mail server; the fleet's inbox is agent@ this domain."
  type        = string
  default     = "example.test"
}

variable "email_allowed_senders" {
  description = "Whose mail the fleet acts on (addresses, or @domain)."
  type        = string
  default     = "alice@example.test"
}

variable "git_author_name" {
  description = "Author of the fleet's commits."
  type        = string
  default     = "MCP DevOps agent"
}

variable "git_author_email" {
  description = "Author e-mail of the fleet's commits."
  type        = string
  default     = "agent@example.test"
}

variable "rust_log" {
  description = "Log filter of every program."
  type        = string
  default     = "info,rmcp=warn"
}

variable "enable_grafana" {
  description = "Run Grafana (its image comes from a registry)."
  type        = bool
  default     = false
}

variable "grafana_image" {
  description = "Grafana image."
  type        = string
  default     = "grafana/grafana-oss:11.6.0"
}

variable "enable_llm" {
  description = "Run the llm service (Ollama; mcp-fleet/llm is built from llm/ with registry access)."
  type        = bool
  default     = false
}

variable "llm_gpus" {
  description = "Give the llm service every GPU (needs the NVIDIA runtime on the host)."
  type        = bool
  default     = false
}

variable "llm_provider" {
  description = "The agent's provider: rules (built in) or openai (e.g. the llm service)."
  type        = string
  default     = "rules"

  validation {
    condition     = contains(["rules", "openai"], var.llm_provider)
    error_message = "llm_provider is rules or openai."
  }
}

variable "llm_base_url" {
  description = "OpenAI-compatible endpoint of the agent's model."
  type        = string
  default     = "http://llm:11434/v1"
}

variable "fleet_templates" {
  description = "Templates the planner and the agent offer (the toolchain image builds all five)."
  type        = string
  default     = "python-cli,python-lib,python-service,rust-cli,rust-service"
}

variable "llm_model" {
  description = "Model the llm service pulls and the agent asks for (llm/README.md)."
  type        = string
  default     = "qwen2.5-coder:7b"
}

# --- secrets ----------------------------------------------------------------
variable "fleet_db_password" {
  description = "Password of PostgreSQL's fleet user (letters and digits: it goes into postgres:// URLs)."
  type        = string
  sensitive   = true
}

variable "grafana_db_password" {
  description = "Password of the read-only grafana_ro role."
  type        = string
  sensitive   = true
}

variable "mcp_token" {
  description = "The fleet's bearer token (at least 16 characters)."
  type        = string
  sensitive   = true
}

variable "email_token_secret" {
  description = "HMAC key of the signed reply addresses (at least 32 bytes)."
  type        = string
  sensitive   = true
}

variable "gateway_key_secret" {
  description = "Key the api-gateway hashes API keys with (at least 32 bytes; changing it invalidates every key)."
  type        = string
  sensitive   = true
}

variable "mail_password_agent" {
  description = "Password of agent@mail_domain on the dev mail server."
  type        = string
  sensitive   = true
}

variable "mail_password_alice" {
  description = "Password of alice@mail_domain (the test requester)."
  type        = string
  sensitive   = true
}

variable "grafana_admin_password" {
  description = "Password of Grafana's admin."
  type        = string
  sensitive   = true
  default     = ""
}

variable "llm_api_key" {
  description = "Key sent to the model endpoint with llm_provider = openai (Ollama ignores it)."
  type        = string
  sensitive   = true
  default     = "ollama"
}
