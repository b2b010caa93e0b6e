# One program of the fleet as a container: the definition every program
# shares, instantiated by terraform/fleet.tf.json (generated from fleet.toml
# by `cargo xtask codegen`) once per start tier, so a tier is created only
# after the one before it is healthy (compose's depends_on with
# `condition: service_healthy`). What differs between programs — image,
# environment, secrets, user, init, limits, tmpfs, mounts, a published
# port — is data in var.programs.

terraform {
  required_providers {
    docker = {
      source = "kreuzwerker/docker"
    }
  }
}

variable "names" {
  description = "The programs of this tier (compose service names)."
  type        = list(string)
}

variable "programs" {
  description = "Every program's container settings, by name (local.programs in fleet.tf.json)."
  type        = any
}

variable "project" {
  description = "Prefix of container and volume names."
  type        = string
}

variable "network" {
  description = "The fleet's Docker network."
  type        = string
}

variable "program_env" {
  description = "The environment every program shares (docker-compose.yml's x-program-env)."
  type        = list(string)
}

variable "secret_values" {
  description = "Secret file contents by name."
  type        = map(string)
  sensitive   = true
}

# Compose secrets have no equivalent outside swarm: each program gets a small
# volume at /run/secrets, and the provider uploads its files there before the
# container starts (a read-only root accepts uploads only into volumes).
resource "docker_volume" "secrets" {
  for_each = toset(var.names)
  name     = "${var.project}_secrets_${each.key}"
}

resource "docker_container" "program" {
  for_each  = toset(var.names)
  name      = "${var.project}-${each.key}"
  image     = var.programs[each.key].image
  restart   = "unless-stopped"
  read_only = true
  user      = var.programs[each.key].user
  init      = var.programs[each.key].init
  # The docker server joins the engine socket's group (fleet.toml's
  # docker_socket); every other program's list is empty.
  group_add = var.programs[each.key].group_add
  memory    = var.programs[each.key].memory
  cpus      = var.programs[each.key].cpus
  wait      = true
  tmpfs     = var.programs[each.key].tmpfs
  env       = concat(var.program_env, var.programs[each.key].env)

  networks_advanced {
    name    = var.network
    aliases = [each.key]
  }

  # The docker server's application network (fleet.toml's apps_network).
  dynamic "networks_advanced" {
    for_each = var.programs[each.key].networks
    content {
      name = networks_advanced.value
    }
  }

  dynamic "volumes" {
    for_each = var.programs[each.key].mounts
    content {
      host_path      = volumes.value.host_path
      volume_name    = volumes.value.volume_name
      container_path = volumes.value.container_path
      read_only      = volumes.value.read_only
    }
  }

  volumes {
    volume_name    = docker_volume.secrets[each.key].name
    container_path = "/run/secrets"
  }

  # Only a program people reach from outside has one (fleet.toml's
  # `publish`); the address and host port are the root module's variables.
  dynamic "ports" {
    for_each = var.programs[each.key].ports
    content {
      internal = ports.value.internal
      external = ports.value.external
      ip       = ports.value.ip
    }
  }

  dynamic "upload" {
    for_each = var.programs[each.key].secrets
    content {
      file        = "/run/secrets/${upload.value}"
      content     = var.secret_values[upload.value]
      permissions = "0444"
    }
  }

  # The image's own check (`PROGRAM --health`), as compose runs it.
  healthcheck {
    test         = ["CMD", "/usr/local/bin/${each.key}", "--health"]
    interval     = "5s"
    timeout      = "3s"
    retries      = 3
    start_period = "20s"
  }
}

output "containers" {
  description = "Container names by program."
  value       = { for name, c in docker_container.program : name => c.name }
}
