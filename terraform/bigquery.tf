# The warehouse: one dataset, the cleaned `sales` table and `sales_rejects` (the quarantined rows,
# with their reason, never dropped). The loader replaces exactly one dataset's rows (`_source`) per
# load with one atomic job, so these tables are only ever written by the loader.
#
# Backup policy
#   - Time travel: any table can be read or restored as it was up to bigquery_time_travel_hours ago
#     (default 7 days): `SELECT ... FOR SYSTEM_TIME AS OF TIMESTAMP_SUB(CURRENT_TIMESTAMP(), INTERVAL 1 DAY)`
#     or `bq cp sales_etl.sales@-3600000 sales_etl.sales_restored`.
#   - Fail-safe: 7 more days after the window, recoverable through Google support only.
#   - Snapshots: before a backfill or a schema change, take a table snapshot
#     (`bq cp --snapshot --no_clobber --expiration 2592000 sales_etl.sales sales_etl.sales_snap_YYYYMMDD`);
#     docs/runbook.md "Backfill" makes it the first step. The source data stays recoverable too:
#     the Kaggle dataset version is recorded in `_source_version` and can be fetched again.

resource "google_bigquery_dataset" "warehouse" {
  dataset_id    = var.bigquery_dataset_id
  friendly_name = "Sales ETL"
  description   = "Sales data loaded by the sales ETL (services/loader); read by Tableau and the insights app."
  location      = var.bigquery_location

  max_time_travel_hours = tostring(var.bigquery_time_travel_hours)

  # Access is granted with google_bigquery_dataset_iam_member (iam.tf), never with access blocks here:
  # the two fight over the same ACL.

  depends_on = [google_project_service.apis]
}

locals {
  # Columns added by the loader to every row: where it came from and when (README "Data flow").
  # NULLABLE on purpose: Parquet columns arrive optional, and a REQUIRED target column would make
  # BigQuery refuse the load job ("changed mode from REQUIRED to NULLABLE").
  lineage_columns = [
    { name = "_source", type = "STRING", mode = "NULLABLE", description = "Dataset id, e.g. kaggle/OWNER/SLUG; a load replaces all rows of its _source (one dataset version at a time)." },
    { name = "_run_id", type = "STRING", mode = "NULLABLE", description = "Pipeline run that loaded the row." },
    { name = "_loaded_at", type = "TIMESTAMP", mode = "NULLABLE", description = "When the row was loaded." },
    { name = "_source_version", type = "STRING", mode = "NULLABLE", description = "Dataset version (Kaggle version number or content hash)." },
  ]

  # The cleaned sales columns (snake_case, as the transformer names them). The loader may add new
  # nullable columns (schema update ALLOW_FIELD_ADDITION); Terraform ignores schema drift below.
  sales_columns = [
    { name = "order_id", type = "STRING", mode = "NULLABLE", description = "Order identifier." },
    { name = "order_date", type = "DATE", mode = "NULLABLE", description = "Order date; the partitioning column." },
    { name = "ship_date", type = "DATE", mode = "NULLABLE", description = "Ship date." },
    { name = "ship_mode", type = "STRING", mode = "NULLABLE", description = "Ship mode." },
    { name = "customer_id", type = "STRING", mode = "NULLABLE", description = "Customer identifier." },
    { name = "customer_name", type = "STRING", mode = "NULLABLE", description = "Customer name." },
    { name = "segment", type = "STRING", mode = "NULLABLE", description = "Customer segment." },
    { name = "country", type = "STRING", mode = "NULLABLE", description = "Country." },
    { name = "city", type = "STRING", mode = "NULLABLE", description = "City." },
    { name = "state", type = "STRING", mode = "NULLABLE", description = "State." },
    { name = "postal_code", type = "STRING", mode = "NULLABLE", description = "Postal code (text: leading zeros matter)." },
    { name = "region", type = "STRING", mode = "NULLABLE", description = "Sales region; first clustering column." },
    { name = "product_id", type = "STRING", mode = "NULLABLE", description = "Product identifier." },
    { name = "category", type = "STRING", mode = "NULLABLE", description = "Product category; second clustering column." },
    { name = "sub_category", type = "STRING", mode = "NULLABLE", description = "Product sub-category." },
    { name = "product_name", type = "STRING", mode = "NULLABLE", description = "Product name." },
    { name = "sales", type = "FLOAT64", mode = "NULLABLE", description = "Sales amount." },
    { name = "quantity", type = "INT64", mode = "NULLABLE", description = "Quantity." },
    { name = "discount", type = "FLOAT64", mode = "NULLABLE", description = "Discount rate (0-1)." },
    { name = "profit", type = "FLOAT64", mode = "NULLABLE", description = "Profit." },
  ]

  # Quarantined rows as the transformer writes them (runs/<runId>/quarantine/<table>.arrow).
  reject_columns = [
    { name = "line", type = "INT64", mode = "NULLABLE", description = "Line number in the source file." },
    { name = "raw", type = "STRING", mode = "NULLABLE", description = "The raw record as read." },
    { name = "reason", type = "STRING", mode = "NULLABLE", description = "Why the row was rejected, e.g. invalid_date." },
    { name = "message", type = "STRING", mode = "NULLABLE", description = "Details: the column and value that failed." },
    { name = "file", type = "STRING", mode = "NULLABLE", description = "Source file inside the dataset." },
  ]
}

resource "google_bigquery_table" "sales" {
  dataset_id  = google_bigquery_dataset.warehouse.dataset_id
  table_id    = var.target_table
  description = "Cleaned sales rows, one per order line, with lineage columns. Partitioned by order_date, clustered by region and category for the dashboards' filters."

  deletion_protection = var.deletion_protection

  time_partitioning {
    type  = "DAY"
    field = "order_date"
  }
  clustering = ["region", "category"]

  schema = jsonencode(concat(local.sales_columns, local.lineage_columns))

  lifecycle {
    # The loader adds columns a new dataset version brings; do not fight it.
    ignore_changes = [schema]
  }
}

resource "google_bigquery_table" "sales_rejects" {
  dataset_id  = google_bigquery_dataset.warehouse.dataset_id
  table_id    = "${var.target_table}_rejects"
  description = "Rows the transformer quarantined, with the reason; rows in = loaded + quarantined + duplicates."

  deletion_protection = var.deletion_protection

  time_partitioning {
    type  = "DAY"
    field = "_loaded_at"
  }
  clustering = ["reason"]

  schema = jsonencode(concat(local.reject_columns, local.lineage_columns))

  lifecycle {
    ignore_changes = [schema]
  }
}
