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

output "gateway_url" {
  description = "The api-gateway, on the Docker host: REST API, web UI under /ui, MCP under /mcp."
  value       = "http://${var.bind_addr}:${var.gateway_port}"
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
      "postgres"   = docker_container.postgres.name
      "mail"       = docker_container.mail.name
      "prometheus" = docker_container.prometheus.name
    },
    local.program_containers,
    { for c in docker_container.grafana : "grafana" => c.name },
    { for c in docker_container.llm : "llm" => c.name },
  )
}
