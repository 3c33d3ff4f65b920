# Event-driven runs. Eventarc starts one execution per event and passes the CloudEvent as the
# workflow's single argument; an event counts as delivered once the execution starts, so a failed
# execution is not retried by Eventarc (it alerts; re-run by hand, docs/runbook.md).

# A file uploaded to the inbox bucket: the workflow reads event.data.bucket and event.data.name and
# runs with source gs://<bucket>/<name> (step source_from_storage_event).
resource "google_eventarc_trigger" "inbox_upload" {
  name            = "${var.name_prefix}-inbox-upload"
  location        = var.region # must be the bucket's location (storage.tf puts it in var.region)
  service_account = google_service_account.sa["eventarc"].email

  matching_criteria {
    attribute = "type"
    value     = "google.cloud.storage.object.v1.finalized"
  }
  matching_criteria {
    attribute = "bucket"
    value     = google_storage_bucket.inbox.name
  }

  destination {
    workflow = google_workflows_workflow.pipeline.id
  }

  depends_on = [
    google_project_iam_member.gcs_agent_pubsub_publisher,
    google_project_iam_member.eventarc_roles,
  ]
}

# A message on etl-run-requests: the CloudEvent carries it base64-encoded at
# event.data.message.data (google.cloud.pubsub.topic.v1.messagePublished).
resource "google_eventarc_trigger" "run_request" {
  name            = "${var.name_prefix}-run-request"
  location        = var.region
  service_account = google_service_account.sa["eventarc"].email

  matching_criteria {
    attribute = "type"
    value     = "google.cloud.pubsub.topic.v1.messagePublished"
  }

  transport {
    pubsub {
      topic = google_pubsub_topic.run_requests.id
    }
  }

  destination {
    workflow = google_workflows_workflow.pipeline.id
  }

  depends_on = [google_project_iam_member.eventarc_roles]
}
