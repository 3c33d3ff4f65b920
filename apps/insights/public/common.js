/* Shared by both pages: JSON fetching, number formatting, ECharts set-up and the freshness poll. */

export async function getJson(url) {
  const res = await fetch(url, { headers: { accept: 'application/json' } });
  const body = await res.json().catch(() => null);
  if (!res.ok) throw new Error(body?.error?.message ?? `${res.status} ${res.statusText} for ${url}`);
  return body;
}

const integer = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const twoDecimals = new Intl.NumberFormat('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
const compact = new Intl.NumberFormat('en-US', { notation: 'compact', maximumFractionDigits: 1 });

export const format = {
  integer: (v) => (v === null || v === undefined ? '–' : integer.format(v)),
  money: (v) => (v === null || v === undefined ? '–' : integer.format(v)),
  money2: (v) => (v === null || v === undefined ? '–' : twoDecimals.format(v)),
  compact: (v) => (v === null || v === undefined ? '–' : compact.format(v)),
  percent: (v, digits = 1) => (v === null || v === undefined ? '–' : `${(v * 100).toFixed(digits)}%`),
  number: (v, digits = 2) => (v === null || v === undefined ? '–' : Number(v).toFixed(digits)),
  dateTime: (iso) =>
    iso ? new Date(iso).toLocaleString('en-GB', { dateStyle: 'medium', timeStyle: 'short' }) : '–',
};

/** Sets a tile's value, delta line and a complete text alternative (aria-label). */
export function setTile(id, { label, value, valueText, delta, deltaClass, description }) {
  const tile = document.getElementById(id);
  tile.querySelector('.value').textContent = valueText;
  tile.dataset.value = value === null || value === undefined ? '' : String(value);
  const deltaEl = tile.querySelector('.delta');
  deltaEl.textContent = delta ?? '';
  deltaEl.className = `delta ${deltaClass ?? ''}`;
  tile.setAttribute('aria-label', description ?? `${label}: ${valueText}. ${delta ?? ''}`);
}

/** The page's ECharts instance for an element, created once, resized with the window. */
export function chartFor(id) {
  const el = document.getElementById(id);
  let chart = window.echarts.getInstanceByDom(el);
  if (!chart) {
    chart = window.echarts.init(el, null, { renderer: 'canvas' });
    new ResizeObserver(() => chart.resize()).observe(el);
  }
  return chart;
}

export const palette = ['#2f6fde', '#e8833a', '#3aa57a', '#b150c4', '#d4b21c', '#5b6478'];

export function showMessage(text) {
  const el = document.getElementById('message');
  el.textContent = text ?? '';
  el.hidden = !text;
}

/** `data-state` on <body>: loading | ready | error, and a refresh counter, for people and tests alike. */
export function setPageState(state) {
  document.body.dataset.state = state;
  if (state === 'ready')
    document.body.dataset.refreshes = String(Number(document.body.dataset.refreshes ?? 0) + 1);
}

/** A column name for people: `product_line` -> `Product line`. */
export function dimensionLabel(name) {
  const words = String(name).replace(/_/g, ' ').trim();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/**
 * Fills the dataset selector: every loaded dataset, newest first, as `/api/filters` (`sources`) and
 * `/api/datasets` list them; one without a fact table says so.
 */
export function fillDatasetSelect(select, datasets, current) {
  select.length = 0;
  for (const d of datasets) {
    const what = d.table
      ? `${d.table}, ${format.integer(d.rows)} rows`
      : 'no table with a date and an amount';
    select.add(new Option(`${d.id} (${what})`, d.id));
  }
  select.value = current ?? '';
}

export function escapeHtml(value) {
  return String(value ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * Polls /api/freshness every `pollSeconds`, renders the freshness line, and calls `onNewRun` when the
 * warehouse version changes (a new load or analysis landed).
 */
export async function watchFreshness(onNewRun) {
  const { pollSeconds } = await getJson('/api/config');
  let version;
  const check = async () => {
    try {
      const f = await getJson('/api/freshness');
      renderFreshness(f);
      if (version !== undefined && f.version !== version) await onNewRun(f);
      version = f.version;
      return f;
    } catch (error) {
      document.getElementById('freshness').textContent = `Freshness unknown: ${error.message}`;
      return undefined;
    }
  };
  const first = await check();
  setInterval(check, pollSeconds * 1000);
  return first;
}

function renderFreshness(f) {
  const el = document.getElementById('freshness');
  const run = f.latestRun;
  if (!run) {
    el.textContent = 'No successful run yet.';
    return;
  }
  const loadedAt = f.warehouse?.loadedAt ?? run.finishedAt;
  el.innerHTML =
    `Data as of <strong>${escapeHtml(format.dateTime(loadedAt))}</strong> · run <code>${escapeHtml(run.runId)}</code> · ` +
    `${escapeHtml(format.integer(run.rowsLoaded))} rows loaded, ${escapeHtml(format.integer(run.rowsQuarantined))} quarantined`;
  el.dataset.runId = run.runId;
}
