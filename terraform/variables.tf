# Every input of the configuration. Values for one environment go in a *.tfvars file
# (see docs/deploy.md); only project_id has no default.

variable "project_id" {
  type        = string
  description = "Google Cloud project id that holds every resource of the pipeline."

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", var.project_id))
    error_message = "project_id must be a Google Cloud project id: 6-30 lowercase letters, digits or hyphens, starting with a letter."
  }
}

variable "region" {
  type        = string
  description = "Region for Cloud Run, Workflows, Cloud Scheduler, Eventarc, Artifact Registry and the buckets."
  default     = "europe-west1"

  validation {
    condition     = can(regex("^[a-z]+-[a-z]+[0-9]+$", var.region))
    error_message = "region must be a Google Cloud region such as europe-west1 or us-central1."
  }
}

variable "name_prefix" {
  type        = string
  description = "Prefix of every resource name (service accounts, services, workflow, topics). Short: service account ids are limited to 30 characters."
  default     = "etl"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,11}$", var.name_prefix))
    error_message = "name_prefix must be 2-12 lowercase letters, digits or hyphens, starting with a letter."
  }
}

variable "labels" {
  type        = map(string)
  description = "Extra labels on every resource that supports them (added to app=sales-etl, managed-by=terraform)."
  default     = {}
}

variable "deletion_protection" {
  type        = bool
  description = "Protect the BigQuery tables and Cloud Run services from terraform destroy. Turn off only to tear down a test environment."
  default     = true
}

# --- images -------------------------------------------------------------------------------------

variable "artifact_repository_id" {
  type        = string
  description = "Artifact Registry Docker repository that holds the service images (<region>-docker.pkg.dev/<project>/<id>/<service>)."
  default     = "etl"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,61}[a-z0-9]$", var.artifact_repository_id))
    error_message = "artifact_repository_id must be lowercase letters, digits and hyphens, starting with a letter."
  }
}

variable "image_tag" {
  type        = string
  description = "Image tag deployed for every service unless image_tags overrides it. Prefer an immutable tag (the git commit) over latest."
  default     = "latest"

  validation {
    condition     = can(regex("^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$", var.image_tag))
    error_message = "image_tag must be a valid Docker tag (letters, digits, _ . -, at most 128 characters)."
  }
}

variable "image_tags" {
  type        = map(string)
  description = "Per-service image tag overrides, keyed by extractor, transformer, loader or insights."
  default     = {}

  validation {
    condition     = alltrue([for k in keys(var.image_tags) : contains(["extractor", "transformer", "loader", "insights"], k)])
    error_message = "image_tags keys must be among extractor, transformer, loader, insights."
  }
}

# --- Cloud Run sizing ---------------------------------------------------------------------------

variable "service_sizing" {
  type = map(object({
    cpu             = string
    memory          = string
    timeout_seconds = number
    concurrency     = number
    min_instances   = number
    max_instances   = number
  }))
  description = "Cloud Run sizing per service (extractor, transformer, loader, insights): CPU and memory limits, request timeout, requests per instance, instance bounds. services.tf explains the defaults."
  default = {
    extractor   = { cpu = "1", memory = "2Gi", timeout_seconds = 1800, concurrency = 4, min_instances = 0, max_instances = 5 }
    transformer = { cpu = "4", memory = "8Gi", timeout_seconds = 1800, concurrency = 1, min_instances = 0, max_instances = 5 }
    loader      = { cpu = "1", memory = "4Gi", timeout_seconds = 1800, concurrency = 1, min_instances = 0, max_instances = 5 }
    insights    = { cpu = "1", memory = "1Gi", timeout_seconds = 60, concurrency = 40, min_instances = 0, max_instances = 3 }
  }

  validation {
    condition = alltrue([
      for s in ["extractor", "transformer", "loader", "insights"] : contains(keys(var.service_sizing), s)
    ])
    error_message = "service_sizing must have an entry for each of extractor, transformer, loader and insights."
  }

  validation {
    condition = alltrue([
      for s in values(var.service_sizing) :
      contains(["1", "2", "4", "6", "8"], s.cpu) && can(regex("^[0-9]+(Mi|Gi)$", s.memory))
    ])
    error_message = "cpu must be one of 1, 2, 4, 6, 8 and memory a size such as 512Mi or 4Gi."
  }

  validation {
    # Workflows' http.post waits at most 1800 s, so a longer Cloud Run timeout would only hide a hung call.
    condition = alltrue([
      for s in values(var.service_sizing) :
      s.timeout_seconds >= 10 && s.timeout_seconds <= 1800 && s.concurrency >= 1 && s.concurrency <= 1000 &&
      s.min_instances >= 0 && s.max_instances >= 1 && s.min_instances <= s.max_instances
    ])
    error_message = "timeout_seconds must be 10-1800, concurrency 1-1000, and 0 <= min_instances <= max_instances (max_instances >= 1)."
  }
}

variable "transformer_duckdb_memory_limit" {
  type        = string
  description = "DUCKDB_MEMORY_LIMIT of the transformer. Keep it well under the container memory: Cloud Run's /tmp (DuckDB spill, scratch CSV) is in memory too."
  default     = "4GB"

  validation {
    condition     = can(regex("^[0-9]+(\\.[0-9]+)?(MB|GB)$", var.transformer_duckdb_memory_limit))
    error_message = "transformer_duckdb_memory_limit must be a size such as 512MB or 4GB."
  }
}

variable "log_level" {
  type        = string
  description = "LOG_LEVEL of the services."
  default     = "info"

  validation {
    condition     = contains(["trace", "debug", "info", "warn", "error", "fatal", "silent"], var.log_level)
    error_message = "log_level must be one of trace, debug, info, warn, error, fatal, silent."
  }
}

# --- insights app -------------------------------------------------------------------------------

variable "insights_enabled" {
  type        = bool
  description = "Deploy the insights app (apps/insights) on Cloud Run. Needs its image in the registry."
  default     = true
}

variable "insights_invoker_members" {
  type        = list(string)
  description = "IAM members allowed to open the insights app (e.g. group:analysts@example.com). Public access is not allowed; put IAP or a load balancer in front for browser sign-in."
  default     = []

  validation {
    condition = alltrue([
      for m in var.insights_invoker_members :
      can(regex("^(user|group|serviceAccount|domain):.+$", m))
    ])
    error_message = "insights_invoker_members must be user:, group:, serviceAccount: or domain: members; allUsers and allAuthenticatedUsers are refused."
  }
}

# --- storage ------------------------------------------------------------------------------------

variable "run_data_retention_days" {
  type        = number
  description = "Days after which objects under runs/ in the run-data bucket are deleted (raw, staged, quarantine, reports, manifests). datasets/ state is kept."
  default     = 30

  validation {
    condition     = var.run_data_retention_days >= 1 && var.run_data_retention_days <= 3650 && floor(var.run_data_retention_days) == var.run_data_retention_days
    error_message = "run_data_retention_days must be a whole number of days between 1 and 3650."
  }
}

variable "inbox_retention_days" {
  type        = number
  description = "Days after which uploaded files in the inbox bucket are deleted."
  default     = 90

  validation {
    condition     = var.inbox_retention_days >= 1 && var.inbox_retention_days <= 3650 && floor(var.inbox_retention_days) == var.inbox_retention_days
    error_message = "inbox_retention_days must be a whole number of days between 1 and 3650."
  }
}

# --- BigQuery -----------------------------------------------------------------------------------

variable "bigquery_location" {
  type        = string
  description = "BigQuery dataset location: a multi-region (EU, US) or a region (europe-west1). Tableau and the insights app query it there."
  default     = "EU"

  validation {
    condition     = can(regex("^(EU|US|[a-z]+-[a-z]+[0-9]+)$", var.bigquery_location))
    error_message = "bigquery_location must be EU, US or a region such as europe-west1."
  }
}

variable "bigquery_dataset_id" {
  type        = string
  description = "BigQuery dataset that holds the sales and sales_rejects tables."
  default     = "sales_etl"

  validation {
    condition     = can(regex("^[A-Za-z_][A-Za-z0-9_]{0,1023}$", var.bigquery_dataset_id))
    error_message = "bigquery_dataset_id must be letters, digits and underscores, starting with a letter or underscore."
  }
}

variable "bigquery_time_travel_hours" {
  type        = number
  description = "BigQuery time travel window in hours (48-168, a multiple of 24): how far back a table can be read or restored with FOR SYSTEM_TIME AS OF."
  default     = 168

  validation {
    condition     = var.bigquery_time_travel_hours >= 48 && var.bigquery_time_travel_hours <= 168 && var.bigquery_time_travel_hours % 24 == 0
    error_message = "bigquery_time_travel_hours must be 48, 72, 96, 120, 144 or 168."
  }
}

variable "bigquery_readers" {
  type        = list(string)
  description = "IAM members that read the dataset, e.g. Tableau's service account (serviceAccount:tableau@PROJECT.iam.gserviceaccount.com): dataViewer on the dataset plus bigquery.jobUser on the project to run queries."
  default     = []

  validation {
    condition     = alltrue([for m in var.bigquery_readers : can(regex("^(user|group|serviceAccount|domain):.+$", m))])
    error_message = "bigquery_readers must be user:, group:, serviceAccount: or domain: members."
  }
}

variable "bigquery_query_limits" {
  type = object({
    max_bytes_billed = number
    timeout_ms       = number
  })
  description = "Limits of every read query of the insights app and the analyze stage (BIGQUERY_MAX_BYTES_BILLED, BIGQUERY_QUERY_TIMEOUT_MS): bytes a query may bill (at least 10 MiB) and milliseconds it may run. Loads are not capped."
  default = {
    max_bytes_billed = 10737418240 # 10 GiB: at most about 0.06 USD per query on demand
    timeout_ms       = 30000       # under the insights app's 60 s request timeout
  }

  validation {
    condition     = var.bigquery_query_limits.max_bytes_billed >= 10485760 && var.bigquery_query_limits.timeout_ms >= 1000 && var.bigquery_query_limits.timeout_ms <= 21600000
    error_message = "bigquery_query_limits: max_bytes_billed must be at least 10485760 (10 MiB), timeout_ms between 1000 and 21600000."
  }
}

# --- schedule and pipeline arguments ------------------------------------------------------------

variable "schedule" {
  type        = string
  description = "Cron expression (5 fields) of the scheduled run, in schedule_time_zone. Default: daily at 06:00."
  default     = "0 6 * * *"

  validation {
    condition     = length(split(" ", trimspace(var.schedule))) == 5
    error_message = "schedule must be a 5-field cron expression such as \"0 6 * * *\" (daily) or \"0 6 * * 1\" (weekly)."
  }
}

variable "schedule_time_zone" {
  type        = string
  description = "IANA time zone the schedule is read in."
  default     = "Etc/UTC"

  validation {
    condition     = can(regex("^[A-Za-z_]+(/[A-Za-z0-9_+-]+)*$", var.schedule_time_zone))
    error_message = "schedule_time_zone must be an IANA time zone such as Etc/UTC or Europe/Paris."
  }
}

variable "schedule_paused" {
  type        = bool
  description = "Create the scheduler job paused (e.g. until the first manual run has succeeded)."
  default     = false
}

variable "kaggle_dataset" {
  type        = string
  description = "Source of the scheduled runs, as the extractor accepts it: kaggle:OWNER/SLUG (optionally /VERSION), or sample for generated data."
  default     = "kaggle:vivek468/superstore-dataset-final"

  validation {
    condition     = var.kaggle_dataset == "sample" || can(regex("^kaggle:[A-Za-z0-9][A-Za-z0-9_.-]*/[A-Za-z0-9][A-Za-z0-9_.-]*(/[1-9][0-9]*)?$", var.kaggle_dataset))
    error_message = "kaggle_dataset must be kaggle:OWNER/SLUG, kaggle:OWNER/SLUG/VERSION or sample."
  }
}

variable "target_table" {
  type        = string
  description = "Warehouse table the scheduled runs load (the transformer's options.table)."
  default     = "sales"

  validation {
    condition     = can(regex("^[a-z_][a-z0-9_]{0,62}$", var.target_table))
    error_message = "target_table must be lowercase letters, digits and underscores."
  }
}

variable "max_reject_rate" {
  type        = number
  description = "Quality gate of the scheduled runs: the transform fails (422) when more than this share of rows is quarantined."
  default     = 0.1

  validation {
    condition     = var.max_reject_rate >= 0 && var.max_reject_rate <= 1
    error_message = "max_reject_rate must be between 0 and 1."
  }
}

variable "workflow_call_log_level" {
  type        = string
  description = "Cloud Workflows call logging of the workflow and of scheduled executions."
  default     = "LOG_ERRORS_ONLY"

  validation {
    condition     = contains(["LOG_ALL_CALLS", "LOG_ERRORS_ONLY", "LOG_NONE"], var.workflow_call_log_level)
    error_message = "workflow_call_log_level must be LOG_ALL_CALLS, LOG_ERRORS_ONLY or LOG_NONE."
  }
}

variable "tableau_refresh_enabled" {
  type        = bool
  description = "Sets TABLEAU_REFRESH=true for the workflow: refresh the Tableau extract after each load through the loader's POST /v1/refresh. Needs tableau_server_url, tableau_token_name, one refresh target and a version of the PAT secret."
  default     = false

  validation {
    condition     = !var.tableau_refresh_enabled || (var.tableau_server_url != "" && var.tableau_token_name != "")
    error_message = "tableau_refresh_enabled needs tableau_server_url and tableau_token_name."
  }
}

# The loader's Tableau settings (services/loader/src/config.ts). Each is passed to the loader only when
# non-empty; the PAT secret (TABLEAU_TOKEN_SECRET) is passed from Secret Manager when tableau_server_url
# is set, so add a version of it first (docs/deploy.md, "Secret values").

variable "tableau_server_url" {
  type        = string
  description = "Tableau Server or Cloud URL (TABLEAU_SERVER_URL), e.g. https://10ax.online.tableau.com; empty = no Tableau settings on the loader (POST /v1/refresh answers skipped)."
  default     = ""

  validation {
    condition     = var.tableau_server_url == "" || can(regex("^https?://[^/\\s]+", var.tableau_server_url))
    error_message = "tableau_server_url must be empty or an http(s) URL."
  }
}

variable "tableau_site" {
  type        = string
  description = "Tableau site contentUrl (TABLEAU_SITE, the name in the site URL); empty = the default site (Server only)."
  default     = ""
}

variable "tableau_token_name" {
  type        = string
  description = "Name of the Tableau personal access token (TABLEAU_TOKEN_NAME); its secret is the etl-tableau-pat-secret secret."
  default     = ""
}

variable "tableau_datasource_id" {
  type        = string
  description = "LUID of the published data source whose extract is refreshed (TABLEAU_DATASOURCE_ID). Set exactly one of tableau_datasource_id, tableau_datasource_name, tableau_workbook_id."
  default     = ""
}

variable "tableau_datasource_name" {
  type        = string
  description = "Name of the published data source to refresh, looked up on the site (TABLEAU_DATASOURCE_NAME)."
  default     = ""
}

variable "tableau_workbook_id" {
  type        = string
  description = "LUID of a workbook whose extracts are refreshed instead of a data source (TABLEAU_WORKBOOK_ID)."
  default     = ""

  validation {
    condition = var.tableau_server_url == "" || length([
      for target in [var.tableau_datasource_id, var.tableau_datasource_name, var.tableau_workbook_id] : target if target != ""
    ]) == 1
    error_message = "With tableau_server_url, set exactly one of tableau_datasource_id, tableau_datasource_name, tableau_workbook_id."
  }
}

variable "loader_metrics_enabled" {
  type        = bool
  description = "METRICS_ENABLED for the loader: write custom.googleapis.com/etl/* (rows loaded and quarantined, last success, load duration) to Cloud Monitoring after each load. The staleness and quarantine alert policies read them."
  default     = true
}

# --- alerting -----------------------------------------------------------------------------------

variable "alert_notification_channels" {
  type        = list(string)
  description = "Existing Cloud Monitoring notification channels (projects/PROJECT/notificationChannels/ID) that every alert policy notifies."
  default     = []

  validation {
    condition     = alltrue([for c in var.alert_notification_channels : can(regex("^projects/[^/]+/notificationChannels/[^/]+$", c))])
    error_message = "alert_notification_channels must be full channel names: projects/PROJECT/notificationChannels/ID."
  }
}

variable "alert_emails" {
  type        = list(string)
  description = "E-mail addresses to create notification channels for, in addition to alert_notification_channels."
  default     = []

  validation {
    condition     = alltrue([for e in var.alert_emails : can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", e))])
    error_message = "alert_emails must be e-mail addresses."
  }
}

variable "custom_metric_alerts_enabled" {
  type        = bool
  description = "Enable the two alert policies on the pipeline's custom metrics (data staleness, rows quarantined), which the loader writes after each load (loader_metrics_enabled). Turn off together with loader_metrics_enabled: with no writer, the staleness policy would fire permanently."
  default     = true
}

variable "staleness_threshold_hours" {
  type        = number
  description = "Alert when the last successful run (custom.googleapis.com/etl/last_success_timestamp) is older than this. Default: a daily schedule plus 2 hours of slack."
  default     = 26

  validation {
    condition     = var.staleness_threshold_hours >= 1 && var.staleness_threshold_hours <= 24 * 14
    error_message = "staleness_threshold_hours must be between 1 and 336 (14 days)."
  }
}

variable "quarantined_rows_threshold" {
  type        = number
  description = "Alert when one run quarantines more rows than this (custom.googleapis.com/etl/rows_quarantined)."
  default     = 1000

  validation {
    condition     = var.quarantined_rows_threshold >= 0
    error_message = "quarantined_rows_threshold must be zero or more."
  }
}

variable "run_5xx_threshold_per_minute" {
  type        = number
  description = "Alert when a Cloud Run service answers more 5xx responses per minute than this, over 5 minutes."
  default     = 1

  validation {
    condition     = var.run_5xx_threshold_per_minute >= 0
    error_message = "run_5xx_threshold_per_minute must be zero or more."
  }
}

variable "runbook_url" {
  type        = string
  description = "Base URL of docs/runbook.md as the on-call engineer opens it (e.g. the file on the git host). Alert documentation links to its sections."
  default     = "https://github.com/OWNER/REPO/blob/main/docs/runbook.md"

  validation {
    condition     = can(regex("^https://", var.runbook_url))
    error_message = "runbook_url must be an https URL."
  }
}
