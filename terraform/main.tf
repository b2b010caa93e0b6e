# The fleet on a Docker host, as docker-compose.yml runs it: one network,
# the same volumes, one docker_container per compose service with the same
# image, environment, health check, restart policy and limits. Terraform's
# depends_on plus `wait = true` (the provider waits until a container is
# healthy) stand in for compose's `condition: service_healthy`.
#
# The services that are not programs (PostgreSQL, the mail server,
# Prometheus, Grafana, the LLM) are written out here. The programs are one
# container definition, modules/program, which fleet.tf.json — generated from
# fleet.toml by `cargo xtask codegen` — instantiates once per start tier
# with every program's settings as data (local.programs).
#
# Compose secrets have no equivalent outside swarm, so each service that has
# secrets gets a small volume mounted at /run/secrets and the provider
# uploads the files into it before the container starts (read-only roots
# accept uploads only into volumes). Programs read them exactly as under
# compose (*_FILE variables).
#
# Images are not built here: run `cargo xtask images` on the host first
# (or, with registry access, `docker compose build` there).

provider "docker" {
  host     = var.docker_host
  ssh_opts = var.docker_ssh_opts
}

locals {
  image = { for name in ["postgres", "mail", "prometheus", "llm"] : name => "mcp-fleet/${name}:${var.fleet_tag}" }

  # What every program shares (docker-compose.yml's x-program-env).
  program_env = [
    "MCP_AUTH_TOKEN_FILE=/run/secrets/mcp_token",
    "OTEL_EXPORTER_OTLP_ENDPOINT=http://mcp-client-observer:8080",
    "MCP_LOG_ENDPOINT=http://mcp-server-log:8080",
    "LOG_FORMAT=json",
    "RUST_LOG=${var.rust_log}",
  ]

  # The secret files of each service that is not a program, as in
  # docker-compose.yml (the programs' are in fleet.tf.json).
  secrets_of = {
    "prometheus" = ["mcp_token"]
    "mail"       = ["mail_password_agent", "mail_password_alice"]
    "grafana"    = ["grafana_admin_password"]
  }
  secret_values = {
    mcp_token              = var.mcp_token
    email_token_secret     = var.email_token_secret
    gateway_key_secret     = var.gateway_key_secret
    mail_password_agent    = var.mail_password_agent
    mail_password_alice    = var.mail_password_alice
    grafana_admin_password = var.grafana_admin_password
    llm_api_key            = var.llm_api_key
  }

  data_volumes = concat(
    ["postgres-data", "mail-data", "prometheus-data", "grafana-data", "llm-models"],
    local.program_data_volumes,
  )
}

resource "docker_network" "fleet" {
  name   = "${var.project}_fleet"
  driver = "bridge"
}

# The docker server's application network (its DOCKER_APPS_NETWORK), which
# every service it deploys joins under the service's name; labelled as the
# docker server's (DOCKER_INSTANCE, mcp-fleet by default), so the server uses
# this one. Programs with fleet.toml's apps_network (the browser) join it.
resource "docker_network" "apps" {
  name   = "mcp-fleet-apps"
  driver = "bridge"
  labels {
    label = "io.mcp-fleet.managed-by"
    value = "mcp-fleet"
  }
}

resource "docker_volume" "data" {
  for_each = toset(local.data_volumes)
  name     = "${var.project}_${each.key}"
}

resource "docker_volume" "secrets" {
  for_each = local.secrets_of
  name     = "${var.project}_secrets_${each.key}"
}

# ------------------------------------------------------------------ storage
resource "docker_container" "postgres" {
  name      = "${var.project}-postgres"
  image     = local.image["postgres"]
  restart   = "unless-stopped"
  read_only = true
  memory    = 1024
  cpus      = "1.0"
  wait      = true
  tmpfs = {
    "/tmp"                = "rw"
    "/var/run/postgresql" = "rw"
  }
  env = [
    "POSTGRES_USER=fleet",
    "POSTGRES_DB=fleet",
    "POSTGRES_PASSWORD=${var.fleet_db_password}",
    "GRAFANA_DB_PASSWORD=${var.grafana_db_password}",
  ]

  networks_advanced {
    name    = docker_network.fleet.name
    aliases = ["postgres"]
  }

  volumes {
    volume_name    = docker_volume.data["postgres-data"].name
    container_path = "/var/lib/postgresql/data"
  }

  volumes {
    host_path      = "${var.fleet_dir}/docker/postgres/initdb"
    container_path = "/docker-entrypoint-initdb.d"
    read_only      = true
  }

  healthcheck {
    test         = ["CMD", "pg_isready", "-q", "-h", "127.0.0.1", "-U", "fleet", "-d", "fleet"]
    interval     = "5s"
    timeout      = "3s"
    retries      = 10
    start_period = "30s"
  }
}

resource "docker_container" "mail" {
  name    = "${var.project}-mail"
  image   = local.image["mail"]
  restart = "unless-stopped"
  memory  = 256
  cpus    = "0.5"
  wait    = true
  env = [
    "MAIL_DOMAIN=${var.mail_domain}",
    "MAIL_USERS=agent,alice",
  ]

  networks_advanced {
    name    = docker_network.fleet.name
    aliases = ["mail"]
  }

  volumes {
    volume_name    = docker_volume.data["mail-data"].name
    container_path = "/var/mail/vhosts"
  }

  volumes {
    volume_name    = docker_volume.secrets["mail"].name
    container_path = "/run/secrets"
  }

  dynamic "upload" {
    for_each = local.secrets_of["mail"]
    content {
      file        = "/run/secrets/${upload.value}"
      content     = local.secret_values[upload.value]
      permissions = "0444"
    }
  }

  ports {
    internal = 143
    external = var.mail_imap_port
    ip       = var.bind_addr
  }

  ports {
    internal = 25
    external = var.mail_smtp_port
    ip       = var.bind_addr
  }

  ports {
    internal = 587
    external = var.mail_submission_port
    ip       = var.bind_addr
  }

  healthcheck {
    test         = ["CMD", "/bin/bash", "/usr/local/sbin/mail-healthcheck"]
    interval     = "10s"
    timeout      = "5s"
    retries      = 5
    start_period = "20s"
  }
}

# --------------------------------------------------------------- monitoring
resource "docker_container" "prometheus" {
  name      = "${var.project}-prometheus"
  image     = local.image["prometheus"]
  restart   = "unless-stopped"
  read_only = true
  memory    = 512
  cpus      = "0.5"
  wait      = true
  tmpfs = {
    "/tmp" = "rw"
  }

  networks_advanced {
    name    = docker_network.fleet.name
    aliases = ["prometheus"]
  }

  volumes {
    host_path      = "${var.fleet_dir}/monitoring/prometheus"
    container_path = "/etc/prometheus"
    read_only      = true
  }

  volumes {
    volume_name    = docker_volume.data["prometheus-data"].name
    container_path = "/prometheus"
  }

  volumes {
    volume_name    = docker_volume.secrets["prometheus"].name
    container_path = "/run/secrets"
  }

  dynamic "upload" {
    for_each = local.secrets_of["prometheus"]
    content {
      file        = "/run/secrets/${upload.value}"
      content     = local.secret_values[upload.value]
      permissions = "0444"
    }
  }

  ports {
    internal = 9090
    external = var.prometheus_port
    ip       = var.bind_addr
  }

  healthcheck {
    test         = ["CMD", "/bin/bash", "/usr/local/bin/prometheus-healthcheck"]
    interval     = "10s"
    timeout      = "3s"
    retries      = 3
    start_period = "20s"
  }
}

resource "docker_container" "grafana" {
  count   = var.enable_grafana ? 1 : 0
  name    = "${var.project}-grafana"
  image   = var.grafana_image
  restart = "unless-stopped"
  memory  = 512
  cpus    = "1.0"
  wait    = true
  env = [
    "GF_SECURITY_ADMIN_PASSWORD__FILE=/run/secrets/grafana_admin_password",
    "GF_USERS_ALLOW_SIGN_UP=false",
    "GF_ANALYTICS_REPORTING_ENABLED=false",
    "GF_ANALYTICS_CHECK_FOR_UPDATES=false",
    "POSTGRES_HOST=postgres",
    "POSTGRES_PORT=5432",
    "POSTGRES_DB=fleet",
    "POSTGRES_USER=grafana_ro",
    "POSTGRES_PASSWORD=${var.grafana_db_password}",
  ]

  networks_advanced {
    name    = docker_network.fleet.name
    aliases = ["grafana"]
  }

  volumes {
    host_path      = "${var.fleet_dir}/monitoring/grafana/provisioning"
    container_path = "/etc/grafana/provisioning"
    read_only      = true
  }

  volumes {
    host_path      = "${var.fleet_dir}/monitoring/grafana/dashboards"
    container_path = "/var/lib/grafana/dashboards/mcp-fleet"
    read_only      = true
  }

  volumes {
    volume_name    = docker_volume.data["grafana-data"].name
    container_path = "/var/lib/grafana"
  }

  volumes {
    volume_name    = docker_volume.secrets["grafana"].name
    container_path = "/run/secrets"
  }

  dynamic "upload" {
    for_each = local.secrets_of["grafana"]
    content {
      file        = "/run/secrets/${upload.value}"
      content     = local.secret_values[upload.value]
      permissions = "0444"
    }
  }

  ports {
    internal = 3000
    external = var.grafana_port
    ip       = var.bind_addr
  }

  healthcheck {
    test         = ["CMD-SHELL", "wget -q -O /dev/null http://127.0.0.1:3000/api/health || exit 1"]
    interval     = "10s"
    timeout      = "3s"
    retries      = 5
    start_period = "30s"
  }

  depends_on = [docker_container.postgres, docker_container.prometheus]
}

# ------------------------------------------------------------------ the LLM
resource "docker_container" "llm" {
  count        = var.enable_llm ? 1 : 0
  name         = "${var.project}-llm"
  image        = local.image["llm"]
  restart      = "unless-stopped"
  gpus         = var.llm_gpus ? "all" : null
  wait         = true
  wait_timeout = 3600
  env = [
    "LLM_MODEL=${var.llm_model}",
    "OLLAMA_HOST=0.0.0.0:11434",
    "OLLAMA_KEEP_ALIVE=30m",
  ]

  networks_advanced {
    name    = docker_network.fleet.name
    aliases = ["llm"]
  }

  volumes {
    volume_name    = docker_volume.data["llm-models"].name
    container_path = "/root/.ollama"
  }

  healthcheck {
    test         = ["CMD", "/usr/local/bin/llm-healthcheck"]
    interval     = "15s"
    timeout      = "10s"
    retries      = 3
    start_period = "60m"
  }
}
