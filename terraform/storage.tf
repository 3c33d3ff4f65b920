# Two buckets, both private (uniform bucket-level access, public access prevention enforced):
#   run-data: everything a run writes, under the object-key contract of
#             packages/common/src/storage/object-keys.ts:
#               runs/<runId>/{raw,staged,quarantine,reports,manifest}/...   per run, deleted after N days
#               datasets/<source>/<owner>/<slug>/state.json                  last loaded version, kept
#   inbox:    files uploaded by people or other systems; each new object starts a run (eventarc.tf).

resource "google_storage_bucket" "run_data" {
  name     = "${var.project_id}-${var.name_prefix}-run-data"
  location = var.region

  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = false

  # Run artefacts are evidence for the on-call engineer and the input of a resumed run; keep them
  # for run_data_retention_days, then delete. Only runs/: datasets/ state drives change detection.
  lifecycle_rule {
    condition {
      age            = var.run_data_retention_days
      matches_prefix = ["runs/"]
    }
    action {
      type = "Delete"
    }
  }

  # A soft-deleted object can be restored for 7 days (the default policy, stated explicitly).
  soft_delete_policy {
    retention_duration_seconds = 604800
  }

  depends_on = [google_project_service.apis]
}

resource "google_storage_bucket" "inbox" {
  name     = "${var.project_id}-${var.name_prefix}-inbox"
  location = var.region # Eventarc's GCS trigger must be in the bucket's location.

  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = false

  lifecycle_rule {
    condition {
      age = var.inbox_retention_days
    }
    action {
      type = "Delete"
    }
  }

  depends_on = [google_project_service.apis]
}
