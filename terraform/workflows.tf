# The pipeline: workflows/etl.workflows.yaml deployed unchanged. file() reads it as is, so the
# Workflows expressions (${...}) need no $${...} escaping; the same file runs in the local runner.
resource "google_workflows_workflow" "pipeline" {
  name            = local.workflow_name
  region          = var.region
  description     = "Sales ETL: extract -> transform (quality gate) -> load -> optional Tableau refresh; alerts on failure."
  service_account = google_service_account.sa["workflow"].id
  call_log_level  = var.workflow_call_log_level

  source_contents = file("${path.module}/../workflows/etl.workflows.yaml")

  # Every sys.get_env name the YAML reads without a default (test/terraform checks this).
  user_env_vars = {
    EXTRACTOR_URL   = google_cloud_run_v2_service.extractor.uri
    TRANSFORMER_URL = google_cloud_run_v2_service.transformer.uri
    LOADER_URL      = google_cloud_run_v2_service.loader.uri
    ALERT_TOPIC     = google_pubsub_topic.alerts.id
    TABLEAU_REFRESH = var.tableau_refresh_enabled ? "true" : "false"
    # The ML stage (loader POST /v1/analyze) after each load: its SQL runs on BigQuery (docs/insights.md).
    ML_INSIGHTS = "true"
  }

  depends_on = [
    google_cloud_run_v2_service_iam_member.workflow_invokes_extractor,
    google_cloud_run_v2_service_iam_member.workflow_invokes_transformer,
    google_cloud_run_v2_service_iam_member.workflow_invokes_loader,
    google_pubsub_topic_iam_member.workflow_publishes_alerts,
  ]
}
