locals {
  # The three pipeline stages, called by the workflow with OIDC. Insights is the dashboard, not a stage.
  pipeline_services = toset(["extractor", "transformer", "loader"])

  labels = merge(var.labels, {
    app        = "sales-etl"
    managed-by = "terraform"
  })

  image_repository = "${var.region}-docker.pkg.dev/${var.project_id}/${google_artifact_registry_repository.images.repository_id}"
  images = {
    for service in ["extractor", "transformer", "loader", "insights"] :
    service => "${local.image_repository}/${service}:${lookup(var.image_tags, service, var.image_tag)}"
  }

  workflow_name = "${var.name_prefix}-pipeline"
}
