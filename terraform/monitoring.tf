# Alert policies. Each one notifies var.alert_notification_channels plus one e-mail channel per
# var.alert_emails, and carries documentation pointing at its section of docs/runbook.md.
#
# Two of them read custom metrics the loader writes after each load (services/loader/src/metrics, with
# METRICS_ENABLED = var.loader_metrics_enabled), with the Monitoring API (projects.timeSeries.create) on
# the `global` resource (descriptors below):
#   custom.googleapis.com/etl/last_success_timestamp  GAUGE DOUBLE, unit s: Unix time of the end of
#       the last successful load; label source (the dataset id, e.g. kaggle/OWNER/SLUG).
#   custom.googleapis.com/etl/rows_quarantined        GAUGE INT64: rows quarantined by one run, per
#       table; labels table, source.
# (It also writes etl/rows_loaded and etl/load_duration, which no policy reads; their descriptors are
# created on first write.) The loader's service account holds roles/monitoring.metricWriter (iam.tf).
# A run skipped as unchanged loads nothing and so writes no last_success_timestamp: the staleness
# threshold (var.staleness_threshold_hours) is about new data, not about the schedule firing.
# With loader_metrics_enabled = false, set custom_metric_alerts_enabled = false too.

locals {
  notification_channels = concat(
    var.alert_notification_channels,
    [for c in google_monitoring_notification_channel.email : c.name],
  )
  stage_service_names = [
    google_cloud_run_v2_service.extractor.name,
    google_cloud_run_v2_service.transformer.name,
    google_cloud_run_v2_service.loader.name,
  ]
}

resource "google_monitoring_notification_channel" "email" {
  for_each = toset(var.alert_emails)

  display_name = "Sales ETL on-call: ${each.value}"
  type         = "email"
  labels = {
    email_address = each.value
  }

  depends_on = [google_project_service.apis]
}

resource "google_monitoring_metric_descriptor" "last_success_timestamp" {
  type         = "custom.googleapis.com/etl/last_success_timestamp"
  display_name = "ETL last success timestamp"
  description  = "Unix time (seconds) at which the last pipeline run ended succeeded or skipped, per source."
  metric_kind  = "GAUGE"
  value_type   = "DOUBLE"
  unit         = "s"

  labels {
    key         = "source"
    value_type  = "STRING"
    description = "Dataset source of the run, the dataset id, e.g. kaggle/OWNER/SLUG."
  }

  depends_on = [google_project_service.apis]
}

resource "google_monitoring_metric_descriptor" "rows_quarantined" {
  type         = "custom.googleapis.com/etl/rows_quarantined"
  display_name = "ETL rows quarantined per run"
  description  = "Rows the transformer quarantined in one run, per table (the rejects loaded to <table>_rejects)."
  metric_kind  = "GAUGE"
  value_type   = "INT64"
  unit         = "1"

  labels {
    key         = "table"
    value_type  = "STRING"
    description = "Warehouse table, e.g. sales."
  }
  labels {
    key         = "source"
    value_type  = "STRING"
    description = "Dataset source of the run."
  }

  depends_on = [google_project_service.apis]
}

# 1. An execution ended FAILED: the workflow's except block has published the alert message with the
#    run's context to the alerts topic and re-raised.
resource "google_monitoring_alert_policy" "workflow_failed" {
  display_name          = "Sales ETL: workflow execution failed"
  combiner              = "OR"
  notification_channels = local.notification_channels

  conditions {
    display_name = "${local.workflow_name} finished FAILED"
    condition_threshold {
      filter          = "resource.type = \"workflows.googleapis.com/Workflow\" AND resource.labels.workflow_id = \"${google_workflows_workflow.pipeline.name}\" AND metric.type = \"workflows.googleapis.com/finished_execution_count\" AND metric.labels.status = \"FAILED\""
      comparison      = "COMPARISON_GT"
      threshold_value = 0
      duration        = "0s"
      aggregations {
        alignment_period     = "300s"
        per_series_aligner   = "ALIGN_DELTA"
        cross_series_reducer = "REDUCE_SUM"
      }
      trigger {
        count = 1
      }
    }
  }

  alert_strategy {
    auto_close = "86400s"
  }

  documentation {
    mime_type = "text/markdown"
    subject   = "Sales ETL run failed"
    content   = <<-EOT
      An execution of the `${local.workflow_name}` workflow ended FAILED. The alert message with the run id,
      failed step, source, dataset version and error is on the `${google_pubsub_topic.alerts.name}` topic
      (subscription `${google_pubsub_subscription.alerts.name}`).

      Runbook: ${var.runbook_url}#workflow-execution-failed
    EOT
  }
}

# 2. A stage or the app answers 5xx: 500 is a bug, 503 an unavailable dependency (retried by the
#    workflow, but a sustained rate means the retries are not enough).
resource "google_monitoring_alert_policy" "run_5xx" {
  display_name          = "Sales ETL: Cloud Run 5xx responses"
  combiner              = "OR"
  notification_channels = local.notification_channels

  conditions {
    display_name = "5xx responses above ${var.run_5xx_threshold_per_minute}/min"
    condition_threshold {
      filter          = "resource.type = \"cloud_run_revision\" AND resource.labels.service_name = one_of(${join(", ", [for n in concat(local.stage_service_names, [for s in google_cloud_run_v2_service.insights : s.name]) : "\"${n}\""])}) AND metric.type = \"run.googleapis.com/request_count\" AND metric.labels.response_code_class = \"5xx\""
      comparison      = "COMPARISON_GT"
      threshold_value = var.run_5xx_threshold_per_minute / 60
      duration        = "300s"
      aggregations {
        alignment_period     = "60s"
        per_series_aligner   = "ALIGN_RATE"
        cross_series_reducer = "REDUCE_SUM"
        group_by_fields      = ["resource.labels.service_name"]
      }
      trigger {
        count = 1
      }
    }
  }

  alert_strategy {
    auto_close = "3600s"
  }

  documentation {
    mime_type = "text/markdown"
    subject   = "Sales ETL service answering 5xx"
    content   = <<-EOT
      A Sales ETL Cloud Run service has answered more than ${var.run_5xx_threshold_per_minute} 5xx responses
      per minute for 5 minutes. The policy's chart shows which service (label service_name).

      Runbook: ${var.runbook_url}#cloud-run-5xx-responses
    EOT
  }
}

# 3. No successful run for staleness_threshold_hours. PromQL, because the condition compares the metric's
#    value (a timestamp) with the current time. The second branch fires when the metric has not been
#    written at all for 7 days (a brand-new deployment fires it until the first success is recorded).
resource "google_monitoring_alert_policy" "data_stale" {
  enabled               = var.custom_metric_alerts_enabled
  display_name          = "Sales ETL: data is stale"
  combiner              = "OR"
  notification_channels = local.notification_channels

  conditions {
    display_name = "no successful run for ${var.staleness_threshold_hours} h"
    condition_prometheus_query_language {
      query               = "(time() - max(max_over_time(custom_googleapis_com:etl_last_success_timestamp{monitored_resource=\"global\"}[7d])) > ${var.staleness_threshold_hours * 3600}) or on() absent_over_time(custom_googleapis_com:etl_last_success_timestamp{monitored_resource=\"global\"}[7d])"
      duration            = "600s"
      evaluation_interval = "300s"
    }
  }

  alert_strategy {
    auto_close = "86400s"
  }

  documentation {
    mime_type = "text/markdown"
    subject   = "Sales ETL data is stale"
    content   = <<-EOT
      No pipeline run has ended succeeded or skipped for more than ${var.staleness_threshold_hours} hours
      (metric custom.googleapis.com/etl/last_success_timestamp). Tableau and the insights app show old data.

      Runbook: ${var.runbook_url}#data-is-stale
    EOT
  }

  depends_on = [google_monitoring_metric_descriptor.last_success_timestamp]
}

# 4. One run quarantined more rows than usual: the source changed shape or quality, even if the
#    quality gate (max reject rate) let the run through.
resource "google_monitoring_alert_policy" "rows_quarantined" {
  enabled               = var.custom_metric_alerts_enabled
  display_name          = "Sales ETL: rows quarantined above threshold"
  combiner              = "OR"
  notification_channels = local.notification_channels

  conditions {
    display_name = "more than ${var.quarantined_rows_threshold} rows quarantined in a run"
    condition_threshold {
      filter          = "resource.type = \"global\" AND metric.type = \"${google_monitoring_metric_descriptor.rows_quarantined.type}\""
      comparison      = "COMPARISON_GT"
      threshold_value = var.quarantined_rows_threshold
      duration        = "0s"
      aggregations {
        alignment_period   = "600s"
        per_series_aligner = "ALIGN_MAX"
      }
      trigger {
        count = 1
      }
    }
  }

  alert_strategy {
    auto_close = "86400s"
  }

  documentation {
    mime_type = "text/markdown"
    subject   = "Sales ETL quarantined many rows"
    content   = <<-EOT
      A run quarantined more than ${var.quarantined_rows_threshold} rows of one table
      (metric custom.googleapis.com/etl/rows_quarantined, labels table and source). The rows are in
      runs/<runId>/quarantine/<table>.arrow and in the <table>_rejects BigQuery table, with their reason.

      Runbook: ${var.runbook_url}#rows-quarantined
    EOT
  }
}
