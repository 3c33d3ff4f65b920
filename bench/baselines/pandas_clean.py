"""Baseline (b): the transformer's cleaning rules written in pandas, in memory.

    /usr/bin/python3 bench/baselines/pandas_clean.py <csv-file> [sample-rows]

Same rules as services/transformer (infer-types.ts, clean-sql.ts): every field read as text; encoding UTF-8
(BOM dropped) else Windows-1252; trim ASCII blanks; empty -> missing; types inferred over the first
`sample-rows` (100,000) rows, a type winning when >= 98% of the non-missing values parse (BIGINT and DOUBLE
refused when a value has a leading zero; DATE with the candidate format parsing most values, M/D/Y first;
ISO TIMESTAMP; BOOLEAN true/false/yes/no); NA, N/A, null, None, - missing in typed columns only; a row whose
non-empty value fails its cast is quarantined; exact duplicates among the valid rows removed, the first
kept. Records with too few fields count as quarantined; records with too many are dropped by pandas' C
parser without a count (the bench data has neither; the bench's row check would catch a difference).

Prints one JSON line: ms (read -> cleaned frame, without interpreter start-up and imports), maxRssMb,
rowsOut, rowsQuarantined, rowsDuplicate. Nothing is written out: the cleaned frame stays in memory.
"""

import json
import resource
import sys
import time
import warnings

import pandas as pd

MISSING_TOKENS = ["na", "n/a", "null", "none", "-"]
TRUE_TOKENS = ["true", "yes"]
FALSE_TOKENS = ["false", "no"]
THRESHOLD = 0.98
INTEGER = r"[+-]?[0-9]+"
NUMBER = r"[+-]?(?:[0-9]+(?:[.][0-9]*)?|[.][0-9]+)(?:[eE][+-]?[0-9]+)?"
TIMESTAMP = r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:[.][0-9]{1,9})?)?Z?"
LEADING_ZERO = r"^[+-]?0[0-9]"
ANY_DATE_SHAPE = r"[0-9]{1,4}[-/.][0-9]{1,2}[-/.][0-9]{1,4}"
DATE_FORMATS = ["%Y-%m-%d", "%m/%d/%Y", "%d/%m/%Y", "%Y/%m/%d", "%d.%m.%Y", "%m-%d-%Y", "%d-%m-%Y"]
BLANKS = " \t\r\n"


def date_shape(fmt):
    return fmt.replace("%Y", "[0-9]{4}").replace("%m", "[0-9]{1,2}").replace("%d", "[0-9]{1,2}").replace(".", "[.]")


def read_text(path):
    """Every field as str, nothing treated as missing yet; (frame, records skipped for a wrong field count)."""
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                frame = pd.read_csv(
                    path,
                    dtype=str,
                    keep_default_na=False,
                    na_filter=False,
                    encoding=encoding,
                    on_bad_lines="skip",
                    engine="c",
                )
            # The C parser pads short records with NaN (na_filter off leaves NaN there): count them as
            # unparseable, as DuckDB does.
            short = frame.isna().any(axis=1)
            return frame[~short], int(short.sum())
        except UnicodeDecodeError:
            continue
    raise RuntimeError(f"cannot decode {path}")


def parse_date(text, fmt):
    shaped = text.str.fullmatch(date_shape(fmt), na=False)
    parsed = pd.to_datetime(text.where(shaped), format=fmt, errors="coerce")
    return parsed


def cast(text, plan):
    kind = plan["type"]
    if kind == "BIGINT":
        ok = text.str.fullmatch(INTEGER, na=False)
        return pd.to_numeric(text.where(ok), errors="coerce")
    if kind == "DOUBLE":
        ok = text.str.fullmatch(NUMBER, na=False)
        return pd.to_numeric(text.where(ok), errors="coerce")
    if kind == "DATE":
        return parse_date(text, plan["format"])
    if kind == "TIMESTAMP":
        ok = text.str.fullmatch(TIMESTAMP, na=False)
        return pd.to_datetime(text.where(ok), errors="coerce")
    if kind == "BOOLEAN":
        lower = text.str.lower()
        return lower.map(lambda v: True if v in TRUE_TOKENS else (False if v in FALSE_TOKENS else None))
    return text


def choose_type(values):
    """values: trimmed, non-empty strings of the sample."""
    count = len(values)
    lower = values.str.lower()
    tokens = int(lower.isin(MISSING_TOKENS).sum())
    candidates = count - tokens
    text = {"type": "VARCHAR", "missingTokens": False}
    if candidates <= 0:
        return text

    def enough(n):
        return n >= THRESHOLD * candidates

    zeros = int(values.str.contains(LEADING_ZERO, na=False).sum())
    integers = int(values.str.fullmatch(INTEGER, na=False).sum())
    if zeros == 0 and enough(integers):
        return {"type": "BIGINT", "missingTokens": True}
    numbers = int(values.str.fullmatch(NUMBER, na=False).sum())
    if zeros == 0 and enough(numbers):
        return {"type": "DOUBLE", "missingTokens": True}
    if enough(int(values.str.fullmatch(ANY_DATE_SHAPE, na=False).sum())):
        dates = [int(parse_date(values, fmt).notna().sum()) for fmt in DATE_FORMATS]
        best = max(dates)
        if best > 0 and enough(best):
            return {"type": "DATE", "format": DATE_FORMATS[dates.index(best)], "missingTokens": True}
    timestamps = int(pd.to_datetime(values.where(values.str.fullmatch(TIMESTAMP, na=False)), errors="coerce").notna().sum())
    if enough(timestamps):
        return {"type": "TIMESTAMP", "missingTokens": True}
    if enough(int(lower.isin(TRUE_TOKENS + FALSE_TOKENS).sum())):
        return {"type": "BOOLEAN", "missingTokens": True}
    return text


def clean(path, sample_rows):
    frame, unparseable = read_text(path)
    trimmed = {}
    for name in frame.columns:
        column = frame[name].str.strip(BLANKS)
        trimmed[name] = column.mask(column == "")
    plans = {}
    for name, column in trimmed.items():
        sample = column.iloc[:sample_rows]
        plans[name] = choose_type(sample[sample.notna()])
    typed = {}
    bad_any = pd.Series(False, index=frame.index)
    for name, column in trimmed.items():
        plan = plans[name]
        if plan["type"] == "VARCHAR":
            typed[name] = column
            continue
        if plan["missingTokens"]:
            column = column.mask(column.str.lower().isin(MISSING_TOKENS))
        value = cast(column, plan)
        bad_any |= column.notna() & value.isna()
        typed[name] = value
    cleaned = pd.DataFrame(typed)
    valid = cleaned[~bad_any]
    duplicate = valid.duplicated(keep="first")
    out = valid[~duplicate]
    return {
        "rowsOut": int(len(out)),
        "rowsQuarantined": int(bad_any.sum()) + unparseable,
        "rowsDuplicate": int(duplicate.sum()),
        "plans": plans,
    }


def main():
    path = sys.argv[1]
    sample_rows = int(sys.argv[2]) if len(sys.argv) > 2 else 100_000
    started = time.perf_counter()
    result = clean(path, sample_rows)
    ms = (time.perf_counter() - started) * 1000
    max_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "stage": "pandas",
                "ms": ms,
                "maxRssMb": max_rss_mb,
                "rowsOut": result["rowsOut"],
                "rowsQuarantined": result["rowsQuarantined"],
                "rowsDuplicate": result["rowsDuplicate"],
            }
        )
    )


if __name__ == "__main__":
    main()
