# Terraform and provider versions. The fleet runs on a Docker host (local or
# remote over SSH) through the kreuzwerker/docker provider; nothing else is
# needed. 3.x has every attribute used here (cpus, wait, upload permissions).
terraform {
  required_version = ">= 1.5.0"

  required_providers {
    docker = {
      source  = "kreuzwerker/docker"
      version = "~> 3.6"
    }
  }
}
