# Alerts: the workflow's `except` block publishes one JSON message per failed run to etl-alerts
# (run id, failed step, source, version, error; see alert_message in workflows/etl.workflows.yaml).
# The pull subscription keeps them for a week so the on-call engineer can read the context
# (docs/runbook.md); Cloud Monitoring does the paging, from the FAILED execution metric.
resource "google_pubsub_topic" "alerts" {
  name = "${var.name_prefix}-alerts"

  message_retention_duration = "604800s"

  depends_on = [google_project_service.apis]
}

resource "google_pubsub_subscription" "alerts" {
  name  = "${var.name_prefix}-alerts-inspect"
  topic = google_pubsub_topic.alerts.id

  ack_deadline_seconds       = 60
  message_retention_duration = "604800s"
  retain_acked_messages      = true

  expiration_policy {
    ttl = "" # never expires, even with no reader
  }
}

resource "google_pubsub_topic_iam_member" "workflow_publishes_alerts" {
  topic  = google_pubsub_topic.alerts.id
  role   = "roles/pubsub.publisher"
  member = google_service_account.sa["workflow"].member
}

# Run requests: any system may publish {"source": "...", "force": false, ...} to start a run
# (eventarc.tf). Publishers are granted roles/pubsub.publisher on this topic, outside this file.
resource "google_pubsub_topic" "run_requests" {
  name = "${var.name_prefix}-run-requests"

  message_retention_duration = "86400s"

  depends_on = [google_project_service.apis]
}
