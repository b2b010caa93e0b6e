# What a person needs after `terraform apply`: where to look and what runs.
output "network" {
  description = "The fleet's Docker network."
  value       = docker_network.fleet.name
}

output "prometheus_url" {
  description = "Prometheus, on the Docker host."
  value       = "http://${var.bind_addr}:${var.prometheus_port}"
}

output "grafana_url" {
  description = "Grafana, on the Docker host (null when disabled)."
  value       = var.enable_grafana ? "http://${var.bind_addr}:${var.grafana_port}" : null
}

output "mail" {
  description = "The dev mail server's published ports and the fleet's address."
  value = {
    imap       = "${var.bind_addr}:${var.mail_imap_port}"
    smtp       = "${var.bind_addr}:${var.mail_smtp_port}"
    submission = "${var.bind_addr}:${var.mail_submission_port}"
    inbox      = "agent@${var.mail_domain}"
  }
}

output "containers" {
  description = "Every container of the fleet, by compose service name."
  value = merge(
    {
      "postgres"             = docker_container.postgres.name
      "mail"                 = docker_container.mail.name
      "prometheus"           = docker_container.prometheus.name
      "mcp-server-log"       = docker_container.mcp_server_log.name
      "mcp-client-observer"  = docker_container.mcp_client_observer.name
      "mcp-server-sql"       = docker_container.mcp_server_sql.name
      "mcp-server-fs"        = docker_container.mcp_server_fs.name
      "mcp-server-git"       = docker_container.mcp_server_git.name
      "mcp-server-shell"     = docker_container.mcp_server_shell.name
      "mcp-server-email"     = docker_container.mcp_server_email.name
      "mcp-client-planner"   = docker_container.mcp_client_planner.name
      "mcp-client-llm-agent" = docker_container.mcp_client_llm_agent.name
    },
    { for c in docker_container.grafana : "grafana" => c.name },
    { for c in docker_container.llm : "llm" => c.name },
  )
}
