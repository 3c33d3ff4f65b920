# One Docker repository for the four service images, built with Cloud Build (docs/deploy.md).
resource "google_artifact_registry_repository" "images" {
  location      = var.region
  repository_id = var.artifact_repository_id
  description   = "Sales ETL service images: extractor, transformer, loader, insights."
  format        = "DOCKER"

  # Keep the 10 most recent versions of each image; untagged layers from rebuilds go after 30 days.
  cleanup_policies {
    id     = "keep-recent"
    action = "KEEP"
    most_recent_versions {
      keep_count = 10
    }
  }
  cleanup_policies {
    id     = "delete-old-untagged"
    action = "DELETE"
    condition {
      tag_state  = "UNTAGGED"
      older_than = "2592000s"
    }
  }

  depends_on = [google_project_service.apis]
}
