# Identities and least-privilege grants. One service account per service and per caller; grants on
# the bucket, dataset, topic, secret or service itself wherever the role allows it, project-wide only
# where Google offers no narrower resource (BigQuery jobs, Workflows invocation, Eventarc, logging,
# metrics). No primitive roles (owner/editor/viewer) anywhere; test/terraform checks that.

locals {
  service_accounts = {
    extractor   = "Extractor (Cloud Run): Kaggle API -> raw blobs in the run-data bucket."
    transformer = "Transformer (Cloud Run): raw blobs -> cleaned Arrow IPC in the run-data bucket."
    loader      = "Loader (Cloud Run): Arrow IPC -> BigQuery, idempotent per run."
    insights    = "Insights app (Cloud Run): reads BigQuery for dashboards and ML results, and the run manifests."
    workflow    = "Cloud Workflows pipeline: calls the three stages, publishes alerts."
    scheduler   = "Cloud Scheduler: starts workflow executions."
    eventarc    = "Eventarc triggers: start workflow executions on uploads and run requests."
  }
}

resource "google_service_account" "sa" {
  for_each = local.service_accounts

  account_id   = "${var.name_prefix}-${each.key}"
  display_name = "Sales ETL ${each.key}"
  description  = each.value

  depends_on = [google_project_service.apis]
}

# --- run-data bucket: the three stages read and rewrite their own objects ----------------------
# roles/storage.objectUser = get/list/create/update/delete objects, nothing on the bucket itself.
# Delete is needed: a retried request rewrites the same key (overwrite = delete + create).
resource "google_storage_bucket_iam_member" "run_data_stage_users" {
  for_each = local.pipeline_services

  bucket = google_storage_bucket.run_data.name
  role   = "roles/storage.objectUser"
  member = google_service_account.sa[each.key].member
}

# The insights app reads the run manifests (runs/<runId>/manifest/*.json) for its run history and
# freshness; it writes nothing.
resource "google_storage_bucket_iam_member" "run_data_insights_reader" {
  bucket = google_storage_bucket.run_data.name
  role   = "roles/storage.objectViewer"
  member = google_service_account.sa["insights"].member
}

# The extractor may read uploads (a gs:// source from the inbox), never write them.
resource "google_storage_bucket_iam_member" "inbox_extractor_reader" {
  bucket = google_storage_bucket.inbox.name
  role   = "roles/storage.objectViewer"
  member = google_service_account.sa["extractor"].member
}

# --- BigQuery ------------------------------------------------------------------------------------
# Running a job (load, query) is a project permission; the data access is on the dataset only.
resource "google_project_iam_member" "bigquery_job_users" {
  for_each = toset(["loader", "insights"])

  project = var.project_id
  role    = "roles/bigquery.jobUser"
  member  = google_service_account.sa[each.key].member
}

resource "google_bigquery_dataset_iam_member" "loader_editor" {
  dataset_id = google_bigquery_dataset.warehouse.dataset_id
  role       = "roles/bigquery.dataEditor"
  member     = google_service_account.sa["loader"].member
}

resource "google_bigquery_dataset_iam_member" "insights_viewer" {
  dataset_id = google_bigquery_dataset.warehouse.dataset_id
  role       = "roles/bigquery.dataViewer"
  member     = google_service_account.sa["insights"].member
}

# Readers such as Tableau's service account also need to run query jobs, which only exists project-wide.
resource "google_project_iam_member" "readers_job_user" {
  for_each = toset(var.bigquery_readers)

  project = var.project_id
  role    = "roles/bigquery.jobUser"
  member  = each.value
}

resource "google_bigquery_dataset_iam_member" "readers" {
  for_each = toset(var.bigquery_readers)

  dataset_id = google_bigquery_dataset.warehouse.dataset_id
  role       = "roles/bigquery.dataViewer"
  member     = each.value
}

# The loader writes the load metrics (custom.googleapis.com/etl/*) the staleness and quarantine alert
# policies read (monitoring.tf); metric writing exists only project-wide.
resource "google_project_iam_member" "loader_metric_writer" {
  project = var.project_id
  role    = "roles/monitoring.metricWriter"
  member  = google_service_account.sa["loader"].member
}

# --- workflow ------------------------------------------------------------------------------------
# Invoker on each stage service only (services.tf), publisher on the alert topic only (pubsub.tf);
# project-wide: writing its own logs (sys.log). The run metrics are the loader's (above).
resource "google_project_iam_member" "workflow_project_roles" {
  for_each = toset([
    "roles/logging.logWriter",
  ])

  project = var.project_id
  role    = each.value
  member  = google_service_account.sa["workflow"].member
}

# --- who may start an execution ------------------------------------------------------------------
# The provider has no per-workflow IAM resource, so workflows.invoker is granted on the project; the
# project holds only this pipeline's workflow.
resource "google_project_iam_member" "scheduler_workflow_invoker" {
  project = var.project_id
  role    = "roles/workflows.invoker"
  member  = google_service_account.sa["scheduler"].member
}

resource "google_project_iam_member" "eventarc_roles" {
  for_each = toset([
    "roles/eventarc.eventReceiver",
    "roles/workflows.invoker",
  ])

  project = var.project_id
  role    = each.value
  member  = google_service_account.sa["eventarc"].member
}

# Nobody is granted roles/iam.serviceAccountUser on these accounts here: only the identity running
# Terraform needs it, to attach them to Cloud Run, Workflows, Scheduler and Eventarc (docs/deploy.md).

# --- Google-managed service agents ----------------------------------------------------------------
# Cloud Storage publishes the finalize events Eventarc listens to through Pub/Sub, as its service agent.
data "google_storage_project_service_account" "gcs" {
  project = var.project_id
}

resource "google_project_iam_member" "gcs_agent_pubsub_publisher" {
  project = var.project_id
  role    = "roles/pubsub.publisher"
  member  = "serviceAccount:${data.google_storage_project_service_account.gcs.email_address}"
}
