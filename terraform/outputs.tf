output "service_urls" {
  description = "Cloud Run URLs of the services (authenticated: call with an identity token)."
  value = merge(
    {
      extractor   = google_cloud_run_v2_service.extractor.uri
      transformer = google_cloud_run_v2_service.transformer.uri
      loader      = google_cloud_run_v2_service.loader.uri
    },
    { for s in google_cloud_run_v2_service.insights : "insights" => s.uri },
  )
}

output "workflow_id" {
  description = "Full resource id of the pipeline workflow (projects/.../locations/.../workflows/...)."
  value       = google_workflows_workflow.pipeline.id
}

output "workflow_name" {
  description = "Name of the pipeline workflow, for gcloud workflows run."
  value       = google_workflows_workflow.pipeline.name
}

output "run_data_bucket" {
  description = "Bucket holding runs/<runId>/... and datasets/... (ETL_BUCKET of the services)."
  value       = google_storage_bucket.run_data.name
}

output "inbox_bucket" {
  description = "Upload a file here to start a run (Eventarc GCS finalize trigger)."
  value       = google_storage_bucket.inbox.name
}

output "bigquery_dataset" {
  description = "Dataset holding the sales and sales_rejects tables, as PROJECT.DATASET (for Tableau)."
  value       = "${var.project_id}.${google_bigquery_dataset.warehouse.dataset_id}"
}

output "alert_topic" {
  description = "Pub/Sub topic the workflow publishes failure alerts to."
  value       = google_pubsub_topic.alerts.id
}

output "alert_subscription" {
  description = "Pull subscription to read failure alerts from."
  value       = google_pubsub_subscription.alerts.id
}

output "run_requests_topic" {
  description = "Publish a JSON run request here to start a run (Eventarc Pub/Sub trigger)."
  value       = google_pubsub_topic.run_requests.id
}

output "image_repository" {
  description = "Artifact Registry path the images are pushed to: <repository>/<service>:<tag>."
  value       = local.image_repository
}

output "service_accounts" {
  description = "E-mail of each service account, by role."
  value       = { for k, sa in google_service_account.sa : k => sa.email }
}

output "secrets" {
  description = "Secret Manager secrets whose values must be added once with gcloud secrets versions add."
  value = {
    kaggle_api_token   = google_secret_manager_secret.kaggle_api_token.secret_id
    tableau_pat_secret = google_secret_manager_secret.tableau_pat_secret.secret_id
  }
}
