# Secret Manager holds the two credentials. Terraform creates the secrets (the containers) and the
# access grants, never the values: a value in Terraform would sit in plain text in the state file.
# Add versions out of band, once, before the first full apply (docs/deploy.md, "Secret values"):
#   printf %s "$KAGGLE_API_TOKEN" | gcloud secrets versions add etl-kaggle-api-token --data-file=-

resource "google_secret_manager_secret" "kaggle_api_token" {
  secret_id = "${var.name_prefix}-kaggle-api-token"

  replication {
    auto {}
  }

  depends_on = [google_project_service.apis]
}

resource "google_secret_manager_secret" "tableau_pat_secret" {
  secret_id = "${var.name_prefix}-tableau-pat-secret"

  replication {
    auto {}
  }

  depends_on = [google_project_service.apis]
}

# Each secret is readable by the one service that uses it, granted on the secret, not the project.
resource "google_secret_manager_secret_iam_member" "extractor_kaggle" {
  secret_id = google_secret_manager_secret.kaggle_api_token.id
  role      = "roles/secretmanager.secretAccessor"
  member    = google_service_account.sa["extractor"].member
}

resource "google_secret_manager_secret_iam_member" "loader_tableau" {
  secret_id = google_secret_manager_secret.tableau_pat_secret.id
  role      = "roles/secretmanager.secretAccessor"
  member    = google_service_account.sa["loader"].member
}
