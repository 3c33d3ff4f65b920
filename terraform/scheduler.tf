# The scheduled run: Cloud Scheduler POSTs to the Workflow Executions API as the scheduler account,
# with an OAuth token (a Google API, so oauth_token, not oidc_token). `argument` must itself be a
# JSON string: the workflow receives it parsed, as its `input` map.
resource "google_cloud_scheduler_job" "pipeline" {
  name        = "${var.name_prefix}-pipeline-schedule"
  region      = var.region
  description = "Starts ${local.workflow_name} on ${var.kaggle_dataset} (${var.schedule}, ${var.schedule_time_zone})."
  schedule    = var.schedule
  time_zone   = var.schedule_time_zone
  paused      = var.schedule_paused

  # A failed start (API error) is retried; a failed *execution* is not: it alerts instead.
  retry_config {
    retry_count          = 3
    min_backoff_duration = "30s"
    max_backoff_duration = "600s"
  }

  http_target {
    http_method = "POST"
    uri         = "https://workflowexecutions.googleapis.com/v1/${google_workflows_workflow.pipeline.id}/executions"
    headers = {
      "Content-Type" = "application/json"
    }
    # No run_id: each execution's id becomes the run id. force = false: an unchanged Kaggle
    # version ends the run as "skipped".
    body = base64encode(jsonencode({
      argument = jsonencode({
        source = var.kaggle_dataset
        force  = false
        options = {
          table         = var.target_table
          maxRejectRate = var.max_reject_rate
        }
      })
      callLogLevel = var.workflow_call_log_level
    }))

    oauth_token {
      service_account_email = google_service_account.sa["scheduler"].email
      scope                 = "https://www.googleapis.com/auth/cloud-platform"
    }
  }

  depends_on = [google_project_iam_member.scheduler_workflow_invoker]
}
