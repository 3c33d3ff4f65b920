# Terraform and provider versions. The google provider is pinned to the 6.x line: 6.0 changed
# defaults this configuration relies on (deletion_protection on google_cloud_run_v2_service).
# Terraform 1.9 or later: variable validations refer to other variables (the Tableau settings).
terraform {
  required_version = ">= 1.9"

  required_providers {
    google = {
      source  = "hashicorp/google"
      version = "~> 6.20"
    }
  }

  # State lives in a GCS bucket created once by hand (docs/deploy.md, "One-time bootstrap"):
  #   terraform init -backend-config="bucket=<PROJECT_ID>-tfstate"
  backend "gcs" {
    prefix = "sales-etl"
  }
}

provider "google" {
  project = var.project_id
  region  = var.region

  default_labels = local.labels
}
