# The four Cloud Run services. Settings reach each process as environment variables, parsed once by
# its zod schema (services/<name>/src/config.ts, docs/configuration.md); test/terraform checks that
# every variable set here is a key of that schema. PORT is set by Cloud Run itself (8080).
#
# Ingress: INGRESS_TRAFFIC_ALL on purpose. Cloud Workflows calls from Google's network but not from a
# VPC, so "internal only" would shut it out; the protection is IAM: no allUsers invoker, and
# roles/run.invoker granted to the workflow's service account on each stage service only.
#
# Sizing (var.service_sizing), per stage:
#   extractor   1 CPU / 2 GiB, 4 requests: network-bound (Kaggle download, unzip, upload); memory holds
#               one archive's entries in flight, the zip limits (MAX_*) cap the rest.
#   transformer 4 CPU / 8 GiB, 1 request: DuckDB parses and casts in parallel on every core and wants
#               the whole instance; one run at a time keeps DUCKDB_MEMORY_LIMIT honest. /tmp is memory
#               on Cloud Run, so the memory limit also bounds scratch files and DuckDB spill.
#   loader      1 CPU / 4 GiB, 1 request: copies each staged Arrow file to /tmp (memory on Cloud Run) and
#               converts it to Parquet a part at a time (process peak 0.8-0.9 GiB at 1M rows, 1.3 GiB at 5M
#               in bench/RESULTS.md, plus the /tmp copy), then waits on BigQuery load jobs; loads of one
#               dataset are serialised by its lease anyway (docs/reliability.md), so one request per
#               instance costs nothing.
#   insights    1 CPU / 1 GiB, 40 requests: interactive and short; BigQuery does the heavy lifting.
#   Timeouts: 1800 s for the stages = the longest Workflows' http.post waits; 60 s for the app.
#   cpu_idle: CPU is billed only during requests; startup_cpu_boost speeds cold starts.

# Every service gets the base settings of packages/common/src/config.ts; in gcp mode that schema
# requires GCP_PROJECT, ETL_BUCKET and BIGQUERY_DATASET of every service, even those that never query
# BigQuery (they get no BigQuery access). GCP_REGION is, per that schema, the BigQuery location of the
# dataset and its jobs, so it is var.bigquery_location, not the Cloud Run region.
locals {
  common_env = {
    ETL_MODE    = "gcp"
    HOST        = "0.0.0.0" # the services default to loopback; Cloud Run routes to the container's interface
    LOG_LEVEL   = var.log_level
    GCP_PROJECT = var.project_id
    GCP_REGION  = var.bigquery_location
  }
}

resource "google_cloud_run_v2_service" "extractor" {
  name                = "${var.name_prefix}-extractor"
  location            = var.region
  description         = "POST /v1/extract: Kaggle API or upload -> runs/<runId>/raw/ in the run-data bucket."
  ingress             = "INGRESS_TRAFFIC_ALL"
  deletion_protection = var.deletion_protection

  template {
    service_account                  = google_service_account.sa["extractor"].email
    timeout                          = "${var.service_sizing["extractor"].timeout_seconds}s"
    max_instance_request_concurrency = var.service_sizing["extractor"].concurrency

    scaling {
      min_instance_count = var.service_sizing["extractor"].min_instances
      max_instance_count = var.service_sizing["extractor"].max_instances
    }

    containers {
      image = local.images["extractor"]

      resources {
        limits = {
          cpu    = var.service_sizing["extractor"].cpu
          memory = var.service_sizing["extractor"].memory
        }
        cpu_idle          = true
        startup_cpu_boost = true
      }

      env {
        name  = "ETL_MODE"
        value = local.common_env.ETL_MODE
      }
      env {
        name  = "HOST"
        value = local.common_env.HOST
      }
      env {
        name  = "LOG_LEVEL"
        value = local.common_env.LOG_LEVEL
      }
      env {
        name  = "GCP_PROJECT"
        value = local.common_env.GCP_PROJECT
      }
      env {
        name  = "GCP_REGION"
        value = local.common_env.GCP_REGION
      }
      env {
        name  = "ETL_BUCKET"
        value = google_storage_bucket.run_data.name
      }
      env {
        name  = "BIGQUERY_DATASET"
        value = google_bigquery_dataset.warehouse.dataset_id
      }
      env {
        name = "KAGGLE_API_TOKEN"
        value_source {
          secret_key_ref {
            secret  = google_secret_manager_secret.kaggle_api_token.secret_id
            version = "latest"
          }
        }
      }

      startup_probe {
        http_get {
          path = "/healthz"
        }
        initial_delay_seconds = 0
        period_seconds        = 2
        timeout_seconds       = 2
        failure_threshold     = 15
      }
    }
  }

  depends_on = [google_secret_manager_secret_iam_member.extractor_kaggle]
}

resource "google_cloud_run_v2_service" "transformer" {
  name                = "${var.name_prefix}-transformer"
  location            = var.region
  description         = "POST /v1/transform: raw CSV -> runs/<runId>/staged/<table>.arrow, quarantine and report."
  ingress             = "INGRESS_TRAFFIC_ALL"
  deletion_protection = var.deletion_protection

  template {
    service_account                  = google_service_account.sa["transformer"].email
    timeout                          = "${var.service_sizing["transformer"].timeout_seconds}s"
    max_instance_request_concurrency = var.service_sizing["transformer"].concurrency

    scaling {
      min_instance_count = var.service_sizing["transformer"].min_instances
      max_instance_count = var.service_sizing["transformer"].max_instances
    }

    containers {
      image = local.images["transformer"]

      resources {
        limits = {
          cpu    = var.service_sizing["transformer"].cpu
          memory = var.service_sizing["transformer"].memory
        }
        cpu_idle          = true
        startup_cpu_boost = true
      }

      env {
        name  = "ETL_MODE"
        value = local.common_env.ETL_MODE
      }
      env {
        name  = "HOST"
        value = local.common_env.HOST
      }
      env {
        name  = "LOG_LEVEL"
        value = local.common_env.LOG_LEVEL
      }
      env {
        name  = "GCP_PROJECT"
        value = local.common_env.GCP_PROJECT
      }
      env {
        name  = "GCP_REGION"
        value = local.common_env.GCP_REGION
      }
      env {
        name  = "ETL_BUCKET"
        value = google_storage_bucket.run_data.name
      }
      env {
        name  = "BIGQUERY_DATASET"
        value = google_bigquery_dataset.warehouse.dataset_id
      }
      env {
        name  = "DUCKDB_THREADS"
        value = var.service_sizing["transformer"].cpu
      }
      env {
        name  = "DUCKDB_MEMORY_LIMIT"
        value = var.transformer_duckdb_memory_limit
      }
      env {
        name  = "TRANSFORM_TEMP_DIR"
        value = "/tmp"
      }

      startup_probe {
        http_get {
          path = "/healthz"
        }
        initial_delay_seconds = 0
        period_seconds        = 2
        timeout_seconds       = 2
        failure_threshold     = 15
      }
    }
  }
}

resource "google_cloud_run_v2_service" "loader" {
  name                = "${var.name_prefix}-loader"
  location            = var.region
  description         = "POST /v1/load: runs/<runId>/staged/*.arrow -> BigQuery, replacing the dataset's rows atomically."
  ingress             = "INGRESS_TRAFFIC_ALL"
  deletion_protection = var.deletion_protection

  template {
    service_account                  = google_service_account.sa["loader"].email
    timeout                          = "${var.service_sizing["loader"].timeout_seconds}s"
    max_instance_request_concurrency = var.service_sizing["loader"].concurrency

    scaling {
      min_instance_count = var.service_sizing["loader"].min_instances
      max_instance_count = var.service_sizing["loader"].max_instances
    }

    containers {
      image = local.images["loader"]

      resources {
        limits = {
          cpu    = var.service_sizing["loader"].cpu
          memory = var.service_sizing["loader"].memory
        }
        cpu_idle          = true
        startup_cpu_boost = true
      }

      env {
        name  = "ETL_MODE"
        value = local.common_env.ETL_MODE
      }
      env {
        name  = "HOST"
        value = local.common_env.HOST
      }
      env {
        name  = "LOG_LEVEL"
        value = local.common_env.LOG_LEVEL
      }
      env {
        name  = "GCP_PROJECT"
        value = local.common_env.GCP_PROJECT
      }
      env {
        name  = "GCP_REGION"
        value = local.common_env.GCP_REGION
      }
      env {
        name  = "ETL_BUCKET"
        value = google_storage_bucket.run_data.name
      }
      env {
        name  = "BIGQUERY_DATASET"
        value = google_bigquery_dataset.warehouse.dataset_id
      }
      env {
        name  = "METRICS_ENABLED"
        value = var.loader_metrics_enabled ? "true" : "false"
      }
      # Limits of the analyze stage's read queries (loads are not capped).
      env {
        name  = "BIGQUERY_MAX_BYTES_BILLED"
        value = tostring(var.bigquery_query_limits.max_bytes_billed)
      }
      env {
        name  = "BIGQUERY_QUERY_TIMEOUT_MS"
        value = tostring(var.bigquery_query_limits.timeout_ms)
      }
      # Tableau refresh (POST /v1/refresh): each setting only when its variable is set, so the loader's
      # defaults apply otherwise; the PAT secret from Secret Manager whenever a server is configured.
      dynamic "env" {
        for_each = var.tableau_server_url == "" ? [] : [var.tableau_server_url]
        content {
          name  = "TABLEAU_SERVER_URL"
          value = env.value
        }
      }
      dynamic "env" {
        for_each = var.tableau_site == "" ? [] : [var.tableau_site]
        content {
          name  = "TABLEAU_SITE"
          value = env.value
        }
      }
      dynamic "env" {
        for_each = var.tableau_token_name == "" ? [] : [var.tableau_token_name]
        content {
          name  = "TABLEAU_TOKEN_NAME"
          value = env.value
        }
      }
      dynamic "env" {
        for_each = var.tableau_server_url == "" ? [] : [google_secret_manager_secret.tableau_pat_secret.secret_id]
        content {
          name = "TABLEAU_TOKEN_SECRET"
          value_source {
            secret_key_ref {
              secret  = google_secret_manager_secret.tableau_pat_secret.secret_id
              version = "latest"
            }
          }
        }
      }
      dynamic "env" {
        for_each = var.tableau_datasource_id == "" ? [] : [var.tableau_datasource_id]
        content {
          name  = "TABLEAU_DATASOURCE_ID"
          value = env.value
        }
      }
      dynamic "env" {
        for_each = var.tableau_datasource_name == "" ? [] : [var.tableau_datasource_name]
        content {
          name  = "TABLEAU_DATASOURCE_NAME"
          value = env.value
        }
      }
      dynamic "env" {
        for_each = var.tableau_workbook_id == "" ? [] : [var.tableau_workbook_id]
        content {
          name  = "TABLEAU_WORKBOOK_ID"
          value = env.value
        }
      }

      startup_probe {
        http_get {
          path = "/healthz"
        }
        initial_delay_seconds = 0
        period_seconds        = 2
        timeout_seconds       = 2
        failure_threshold     = 15
      }
    }
  }

  depends_on = [google_secret_manager_secret_iam_member.loader_tableau]
}

resource "google_cloud_run_v2_service" "insights" {
  count = var.insights_enabled ? 1 : 0

  name                = "${var.name_prefix}-insights"
  location            = var.region
  description         = "Insights app: sales monitoring and ML results, reading BigQuery."
  ingress             = "INGRESS_TRAFFIC_ALL"
  deletion_protection = var.deletion_protection

  template {
    service_account                  = google_service_account.sa["insights"].email
    timeout                          = "${var.service_sizing["insights"].timeout_seconds}s"
    max_instance_request_concurrency = var.service_sizing["insights"].concurrency

    scaling {
      min_instance_count = var.service_sizing["insights"].min_instances
      max_instance_count = var.service_sizing["insights"].max_instances
    }

    containers {
      image = local.images["insights"]

      resources {
        limits = {
          cpu    = var.service_sizing["insights"].cpu
          memory = var.service_sizing["insights"].memory
        }
        cpu_idle          = true
        startup_cpu_boost = true
      }

      env {
        name  = "ETL_MODE"
        value = local.common_env.ETL_MODE
      }
      env {
        name  = "HOST"
        value = local.common_env.HOST
      }
      env {
        name  = "LOG_LEVEL"
        value = local.common_env.LOG_LEVEL
      }
      env {
        name  = "GCP_PROJECT"
        value = local.common_env.GCP_PROJECT
      }
      env {
        name  = "GCP_REGION"
        value = local.common_env.GCP_REGION
      }
      env {
        name  = "ETL_BUCKET"
        value = google_storage_bucket.run_data.name
      }
      env {
        name  = "BIGQUERY_DATASET"
        value = google_bigquery_dataset.warehouse.dataset_id
      }
      env {
        name  = "BIGQUERY_MAX_BYTES_BILLED"
        value = tostring(var.bigquery_query_limits.max_bytes_billed)
      }
      env {
        name  = "BIGQUERY_QUERY_TIMEOUT_MS"
        value = tostring(var.bigquery_query_limits.timeout_ms)
      }

      startup_probe {
        http_get {
          path = "/healthz"
        }
        initial_delay_seconds = 0
        period_seconds        = 2
        timeout_seconds       = 2
        failure_threshold     = 15
      }
    }
  }
}

# --- who may call the services -------------------------------------------------------------------
# The stages: the workflow's service account only (Workflows sends an OIDC token, `auth: type: OIDC`).
resource "google_cloud_run_v2_service_iam_member" "workflow_invokes_extractor" {
  name     = google_cloud_run_v2_service.extractor.name
  location = google_cloud_run_v2_service.extractor.location
  role     = "roles/run.invoker"
  member   = google_service_account.sa["workflow"].member
}

resource "google_cloud_run_v2_service_iam_member" "workflow_invokes_transformer" {
  name     = google_cloud_run_v2_service.transformer.name
  location = google_cloud_run_v2_service.transformer.location
  role     = "roles/run.invoker"
  member   = google_service_account.sa["workflow"].member
}

resource "google_cloud_run_v2_service_iam_member" "workflow_invokes_loader" {
  name     = google_cloud_run_v2_service.loader.name
  location = google_cloud_run_v2_service.loader.location
  role     = "roles/run.invoker"
  member   = google_service_account.sa["workflow"].member
}

# The insights app: the members listed in var.insights_invoker_members (never allUsers; the variable
# refuses it).
resource "google_cloud_run_v2_service_iam_member" "insights_invokers" {
  for_each = var.insights_enabled ? toset(var.insights_invoker_members) : toset([])

  name     = google_cloud_run_v2_service.insights[0].name
  location = google_cloud_run_v2_service.insights[0].location
  role     = "roles/run.invoker"
  member   = each.value
}
