# The fleet on a Docker host, as docker-compose.yml runs it: one network,
# the same volumes, one docker_container per compose service with the same
# image, environment, health check, restart policy and limits. Terraform's
# depends_on plus `wait = true` (the provider waits until a container is
# healthy) stand in for compose's `condition: service_healthy`.
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
  image    = { for name in local.fleet_images : name => "mcp-fleet/${name}:${var.fleet_tag}" }
  database = "postgres://fleet:${var.fleet_db_password}@postgres:5432/fleet"

  fleet_images = [
    "postgres", "mail", "prometheus", "llm",
    "mcp-server-log", "mcp-client-observer", "mcp-server-sql", "mcp-server-fs", "mcp-server-git",
    "mcp-server-shell", "mcp-server-email", "mcp-client-planner", "mcp-client-llm-agent",
  ]

  # What every program shares (docker-compose.yml's x-program-env).
  program_env = [
    "MCP_AUTH_TOKEN_FILE=/run/secrets/mcp_token",
    "OTEL_EXPORTER_OTLP_ENDPOINT=http://mcp-client-observer:8080",
    "MCP_LOG_ENDPOINT=http://mcp-server-log:8080",
    "LOG_FORMAT=json",
    "RUST_LOG=${var.rust_log}",
  ]

  # The secret files of each service, as in docker-compose.yml.
  secrets_of = {
    "prometheus"           = ["mcp_token"]
    "mail"                 = ["mail_password_agent", "mail_password_alice"]
    "grafana"              = ["grafana_admin_password"]
    "mcp-server-log"       = ["mcp_token"]
    "mcp-client-observer"  = ["mcp_token"]
    "mcp-server-sql"       = ["mcp_token"]
    "mcp-server-fs"        = ["mcp_token"]
    "mcp-server-git"       = ["mcp_token"]
    "mcp-server-shell"     = ["mcp_token"]
    "mcp-server-email"     = ["mcp_token", "mail_password_agent", "email_token_secret"]
    "mcp-client-planner"   = ["mcp_token"]
    "mcp-client-llm-agent" = ["mcp_token", "llm_api_key"]
  }
  secret_values = {
    mcp_token              = var.mcp_token
    email_token_secret     = var.email_token_secret
    mail_password_agent    = var.mail_password_agent
    mail_password_alice    = var.mail_password_alice
    grafana_admin_password = var.grafana_admin_password
    llm_api_key            = var.llm_api_key
  }

  data_volumes = ["postgres-data", "mail-data", "prometheus-data", "grafana-data", "llm-models", "shell-data", "email-data"]
}

resource "docker_network" "fleet" {
  name   = "${var.project}_fleet"
  driver = "bridge"
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

# ------------------------------------------------------------------ servers
resource "docker_container" "mcp_server_log" {
  name      = "${var.project}-mcp-server-log"
  image     = local.image["mcp-server-log"]
  restart   = "unless-stopped"
  read_only = true
  memory    = 512
  cpus      = "1.0"
  wait      = true
  tmpfs = {
    "/tmp" = "rw"
  }
  env = concat(local.program_env, [
    "LOG_DATABASE_URL=${local.database}",
  ])

  networks_advanced {
    name    = docker_network.fleet.name
    aliases = ["mcp-server-log"]
  }

  volumes {
    volume_name    = docker_volume.secrets["mcp-server-log"].name
    container_path = "/run/secrets"
  }

  dynamic "upload" {
    for_each = local.secrets_of["mcp-server-log"]
    content {
      file        = "/run/secrets/${upload.value}"
      content     = local.secret_values[upload.value]
      permissions = "0444"
    }
  }

  healthcheck {
    test         = ["CMD", "/usr/local/bin/mcp-server-log", "--health"]
    interval     = "5s"
    timeout      = "3s"
    retries      = 3
    start_period = "20s"
  }

  depends_on = [docker_container.postgres]
}

resource "docker_container" "mcp_client_observer" {
  name      = "${var.project}-mcp-client-observer"
  image     = local.image["mcp-client-observer"]
  restart   = "unless-stopped"
  read_only = true
  memory    = 512
  cpus      = "1.0"
  wait      = true
  tmpfs = {
    "/tmp" = "rw"
  }
  env = concat(local.program_env, [
    "OBSERVER_DATABASE_URL=${local.database}",
    "MCP_SERVER_SQL_URL=http://mcp-server-sql:8080/mcp",
  ])

  networks_advanced {
    name    = docker_network.fleet.name
    aliases = ["mcp-client-observer"]
  }

  volumes {
    volume_name    = docker_volume.secrets["mcp-client-observer"].name
    container_path = "/run/secrets"
  }

  dynamic "upload" {
    for_each = local.secrets_of["mcp-client-observer"]
    content {
      file        = "/run/secrets/${upload.value}"
      content     = local.secret_values[upload.value]
      permissions = "0444"
    }
  }

  healthcheck {
    test         = ["CMD", "/usr/local/bin/mcp-client-observer", "--health"]
    interval     = "5s"
    timeout      = "3s"
    retries      = 3
    start_period = "20s"
  }

  depends_on = [docker_container.postgres]
}

resource "docker_container" "mcp_server_sql" {
  name      = "${var.project}-mcp-server-sql"
  image     = local.image["mcp-server-sql"]
  restart   = "unless-stopped"
  read_only = true
  memory    = 512
  cpus      = "1.0"
  wait      = true
  tmpfs = {
    "/tmp" = "rw"
  }
  env = concat(local.program_env, [
    "SQL_DATABASE_URL=${local.database}",
  ])

  networks_advanced {
    name    = docker_network.fleet.name
    aliases = ["mcp-server-sql"]
  }

  volumes {
    volume_name    = docker_volume.secrets["mcp-server-sql"].name
    container_path = "/run/secrets"
  }

  dynamic "upload" {
    for_each = local.secrets_of["mcp-server-sql"]
    content {
      file        = "/run/secrets/${upload.value}"
      content     = local.secret_values[upload.value]
      permissions = "0444"
    }
  }

  healthcheck {
    test         = ["CMD", "/usr/local/bin/mcp-server-sql", "--health"]
    interval     = "5s"
    timeout      = "3s"
    retries      = 3
    start_period = "20s"
  }

  depends_on = [docker_container.postgres, docker_container.mcp_server_log, docker_container.mcp_client_observer]
}

resource "docker_container" "mcp_server_fs" {
  name      = "${var.project}-mcp-server-fs"
  image     = local.image["mcp-server-fs"]
  restart   = "unless-stopped"
  read_only = true
  user      = var.fleet_uid
  memory    = 256
  cpus      = "1.0"
  wait      = true
  tmpfs = {
    "/tmp" = "rw"
  }
  env = concat(local.program_env, [
    "FS_ROOTS=/projects",
    "FS_WRITE=true",
  ])

  networks_advanced {
    name    = docker_network.fleet.name
    aliases = ["mcp-server-fs"]
  }

  volumes {
    host_path      = var.projects_dir
    container_path = "/projects"
  }

  volumes {
    volume_name    = docker_volume.secrets["mcp-server-fs"].name
    container_path = "/run/secrets"
  }

  dynamic "upload" {
    for_each = local.secrets_of["mcp-server-fs"]
    content {
      file        = "/run/secrets/${upload.value}"
      content     = local.secret_values[upload.value]
      permissions = "0444"
    }
  }

  healthcheck {
    test         = ["CMD", "/usr/local/bin/mcp-server-fs", "--health"]
    interval     = "5s"
    timeout      = "3s"
    retries      = 3
    start_period = "20s"
  }

  depends_on = [docker_container.mcp_server_log, docker_container.mcp_client_observer]
}

resource "docker_container" "mcp_server_git" {
  name      = "${var.project}-mcp-server-git"
  image     = local.image["mcp-server-git"]
  restart   = "unless-stopped"
  read_only = true
  user      = var.fleet_uid
  init      = true
  memory    = 256
  cpus      = "1.0"
  wait      = true
  tmpfs = {
    "/tmp" = "rw"
  }
  env = concat(local.program_env, [
    "GIT_ROOTS=/projects",
    "GIT_AUTHOR_NAME=${var.git_author_name}",
    "GIT_AUTHOR_EMAIL=${var.git_author_email}",
  ])

  networks_advanced {
    name    = docker_network.fleet.name
    aliases = ["mcp-server-git"]
  }

  volumes {
    host_path      = var.projects_dir
    container_path = "/projects"
  }

  volumes {
    volume_name    = docker_volume.secrets["mcp-server-git"].name
    container_path = "/run/secrets"
  }

  dynamic "upload" {
    for_each = local.secrets_of["mcp-server-git"]
    content {
      file        = "/run/secrets/${upload.value}"
      content     = local.secret_values[upload.value]
      permissions = "0444"
    }
  }

  healthcheck {
    test         = ["CMD", "/usr/local/bin/mcp-server-git", "--health"]
    interval     = "5s"
    timeout      = "3s"
    retries      = 3
    start_period = "20s"
  }

  depends_on = [docker_container.mcp_server_log, docker_container.mcp_client_observer]
}

resource "docker_container" "mcp_server_shell" {
  name      = "${var.project}-mcp-server-shell"
  image     = local.image["mcp-server-shell"]
  restart   = "unless-stopped"
  read_only = true
  user      = var.fleet_uid
  init      = true
  memory    = 2048
  cpus      = "2.0"
  wait      = true
  tmpfs = {
    "/tmp" = "rw,size=1g,exec"
  }
  env = concat(local.program_env, [
    "SHELL_ROOTS=/projects",
    "SHELL_DATA_DIR=/data/shell",
  ])

  networks_advanced {
    name    = docker_network.fleet.name
    aliases = ["mcp-server-shell"]
  }

  volumes {
    host_path      = var.projects_dir
    container_path = "/projects"
  }

  volumes {
    volume_name    = docker_volume.data["shell-data"].name
    container_path = "/data"
  }

  volumes {
    volume_name    = docker_volume.secrets["mcp-server-shell"].name
    container_path = "/run/secrets"
  }

  dynamic "upload" {
    for_each = local.secrets_of["mcp-server-shell"]
    content {
      file        = "/run/secrets/${upload.value}"
      content     = local.secret_values[upload.value]
      permissions = "0444"
    }
  }

  healthcheck {
    test         = ["CMD", "/usr/local/bin/mcp-server-shell", "--health"]
    interval     = "5s"
    timeout      = "3s"
    retries      = 3
    start_period = "20s"
  }

  depends_on = [docker_container.mcp_server_log, docker_container.mcp_client_observer]
}

resource "docker_container" "mcp_server_email" {
  name      = "${var.project}-mcp-server-email"
  image     = local.image["mcp-server-email"]
  restart   = "unless-stopped"
  read_only = true
  memory    = 256
  cpus      = "1.0"
  wait      = true
  tmpfs = {
    "/tmp" = "rw"
  }
  env = concat(local.program_env, [
    "EMAIL_ADDRESS=agent@${var.mail_domain}",
    "EMAIL_FROM_NAME=DevOps agent",
    "EMAIL_IMAP_URL=imap://mail:143",
    "EMAIL_SMTP_URL=smtp://mail:587",
    "EMAIL_PASSWORD_FILE=/run/secrets/mail_password_agent",
    "EMAIL_TOKEN_SECRET_FILE=/run/secrets/email_token_secret",
    "EMAIL_ALLOWED_SENDERS=${var.email_allowed_senders}",
    "EMAIL_ALLOW_INSECURE=true",
    "EMAIL_DATABASE_URL=${local.database}",
    "EMAIL_DATA_DIR=/data",
  ])

  networks_advanced {
    name    = docker_network.fleet.name
    aliases = ["mcp-server-email"]
  }

  volumes {
    volume_name    = docker_volume.data["email-data"].name
    container_path = "/data"
  }

  volumes {
    volume_name    = docker_volume.secrets["mcp-server-email"].name
    container_path = "/run/secrets"
  }

  dynamic "upload" {
    for_each = local.secrets_of["mcp-server-email"]
    content {
      file        = "/run/secrets/${upload.value}"
      content     = local.secret_values[upload.value]
      permissions = "0444"
    }
  }

  healthcheck {
    test         = ["CMD", "/usr/local/bin/mcp-server-email", "--health"]
    interval     = "5s"
    timeout      = "3s"
    retries      = 3
    start_period = "20s"
  }

  depends_on = [docker_container.postgres, docker_container.mail, docker_container.mcp_server_log, docker_container.mcp_client_observer]
}

# ------------------------------------------------------------------ clients
resource "docker_container" "mcp_client_planner" {
  name      = "${var.project}-mcp-client-planner"
  image     = local.image["mcp-client-planner"]
  restart   = "unless-stopped"
  read_only = true
  memory    = 256
  cpus      = "1.0"
  wait      = true
  tmpfs = {
    "/tmp" = "rw"
  }
  env = concat(local.program_env, [
    "PLANNER_DATABASE_URL=${local.database}",
    "PLANNER_TEMPLATES_DIR=/templates",
    "PLANNER_TEMPLATES=${var.fleet_templates}",
    "MCP_SERVER_FS_URL=http://mcp-server-fs:8080/mcp",
    "MCP_SERVER_GIT_URL=http://mcp-server-git:8080/mcp",
    "MCP_SERVER_SHELL_URL=http://mcp-server-shell:8080/mcp",
    "MCP_SERVER_EMAIL_URL=http://mcp-server-email:8080/mcp",
    "MCP_SERVER_SQL_URL=http://mcp-server-sql:8080/mcp",
    "MCP_SERVER_LOG_URL=http://mcp-server-log:8080/mcp",
    "MCP_CLIENT_LLM_AGENT_URL=http://mcp-client-llm-agent:8080/mcp",
  ])

  networks_advanced {
    name    = docker_network.fleet.name
    aliases = ["mcp-client-planner"]
  }

  volumes {
    host_path      = "${var.fleet_dir}/templates"
    container_path = "/templates"
    read_only      = true
  }

  volumes {
    volume_name    = docker_volume.secrets["mcp-client-planner"].name
    container_path = "/run/secrets"
  }

  dynamic "upload" {
    for_each = local.secrets_of["mcp-client-planner"]
    content {
      file        = "/run/secrets/${upload.value}"
      content     = local.secret_values[upload.value]
      permissions = "0444"
    }
  }

  healthcheck {
    test         = ["CMD", "/usr/local/bin/mcp-client-planner", "--health"]
    interval     = "5s"
    timeout      = "3s"
    retries      = 3
    start_period = "20s"
  }

  depends_on = [
    docker_container.postgres,
    docker_container.mcp_server_log,
    docker_container.mcp_client_observer,
    docker_container.mcp_server_fs,
    docker_container.mcp_server_git,
    docker_container.mcp_server_shell,
    docker_container.mcp_server_email,
    docker_container.mcp_server_sql,
  ]
}

resource "docker_container" "mcp_client_llm_agent" {
  name      = "${var.project}-mcp-client-llm-agent"
  image     = local.image["mcp-client-llm-agent"]
  restart   = "unless-stopped"
  read_only = true
  memory    = 256
  cpus      = "1.0"
  wait      = true
  tmpfs = {
    "/tmp" = "rw"
  }
  env = concat(local.program_env, [
    "LLM_PROVIDER=${var.llm_provider}",
    "LLM_BASE_URL=${var.llm_base_url}",
    "LLM_MODEL=${var.llm_model}",
    "LLM_API_KEY_FILE=/run/secrets/llm_api_key",
    "AGENT_DATABASE_URL=${local.database}",
    "AGENT_TEMPLATES_DIR=/templates",
    "AGENT_TEMPLATES=${var.fleet_templates}",
    "MCP_SERVER_EMAIL_URL=http://mcp-server-email:8080/mcp",
    "MCP_SERVER_SQL_URL=http://mcp-server-sql:8080/mcp",
    "MCP_SERVER_FS_URL=http://mcp-server-fs:8080/mcp",
    "MCP_SERVER_SHELL_URL=http://mcp-server-shell:8080/mcp",
    "MCP_CLIENT_PLANNER_URL=http://mcp-client-planner:8080/mcp",
  ])

  networks_advanced {
    name    = docker_network.fleet.name
    aliases = ["mcp-client-llm-agent"]
  }

  volumes {
    host_path      = "${var.fleet_dir}/templates"
    container_path = "/templates"
    read_only      = true
  }

  volumes {
    volume_name    = docker_volume.secrets["mcp-client-llm-agent"].name
    container_path = "/run/secrets"
  }

  dynamic "upload" {
    for_each = local.secrets_of["mcp-client-llm-agent"]
    content {
      file        = "/run/secrets/${upload.value}"
      content     = local.secret_values[upload.value]
      permissions = "0444"
    }
  }

  healthcheck {
    test         = ["CMD", "/usr/local/bin/mcp-client-llm-agent", "--health"]
    interval     = "5s"
    timeout      = "3s"
    retries      = 3
    start_period = "20s"
  }

  depends_on = [
    docker_container.postgres,
    docker_container.mcp_server_log,
    docker_container.mcp_client_observer,
    docker_container.mcp_server_email,
    docker_container.mcp_server_sql,
    docker_container.mcp_client_planner,
  ]
}
