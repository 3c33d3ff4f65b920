/*
 * The sales monitoring page, for any dataset: a dataset selector, KPI tiles, revenue over time, a breakdown per
 * dimension, top lists and run history. What it shows follows the dataset's column roles (/api/filters): the
 * dimensions become filters and breakdown charts, units and margin tiles appear only when the dataset has a
 * quantity or a profit, the top lists only when it has products or customers.
 */
import {
  chartFor,
  dimensionLabel,
  escapeHtml,
  fillDatasetSelect,
  format,
  getJson,
  palette,
  setPageState,
  setTile,
  showMessage,
  watchFreshness,
} from './common.js';

/** Breakdown charts show this many values; the rest add up to one "Other" bar. */
const BREAKDOWN_BARS = 12;

const state = { grain: 'month', filters: {}, meta: undefined, defaults: undefined };

function query(extra = {}) {
  const params = new URLSearchParams();
  const { dimensions = {}, ...fixed } = state.filters;
  for (const [k, v] of Object.entries({ ...fixed, ...dimensions, ...extra })) if (v) params.set(k, v);
  const text = params.toString();
  return text ? `?${text}` : '';
}

function readFilters() {
  const value = (id) => document.getElementById(id).value || undefined;
  const dimensions = {};
  for (const select of document.querySelectorAll('#filter-dimensions select')) {
    if (select.value) dimensions[select.dataset.dimension] = select.value;
  }
  state.filters = {
    source: value('filter-source'),
    from: value('filter-from'),
    to: value('filter-to'),
    dimensions,
  };
  const url = new URL(window.location.href);
  url.search = query({ grain: state.grain });
  window.history.replaceState(null, '', url);
}

/** Fills the filter bar for a dataset (the one in the URL, else the default) from /api/filters. */
async function loadFilters() {
  const url = new URL(window.location.href).searchParams;
  const source = url.get('source');
  const f = await getJson(`/api/filters${source ? `?${new URLSearchParams({ source })}` : ''}`);
  state.meta = f;
  fillDatasetSelect(document.getElementById('filter-source'), f.sources, f.source);

  const container = document.getElementById('filter-dimensions');
  container.innerHTML = '';
  for (const [i, d] of f.dimensions.entries()) {
    const label = document.createElement('label');
    label.append(`${dimensionLabel(d.name)} `);
    const select = document.createElement('select');
    select.id = `filter-dimension-${i}`;
    select.name = d.name;
    select.dataset.dimension = d.name;
    select.add(new Option('All', ''));
    for (const v of d.values) select.add(new Option(v, v));
    const wanted = url.get(d.name);
    select.value = wanted && d.values.includes(wanted) ? wanted : '';
    label.append(select);
    container.append(label);
  }

  for (const id of ['filter-from', 'filter-to']) {
    const input = document.getElementById(id);
    input.min = f.minDate ?? '';
    input.max = f.maxDate ?? '';
  }
  document.getElementById('filter-from').value = url.get('from') ?? f.defaultRange?.from ?? '';
  document.getElementById('filter-to').value = url.get('to') ?? f.defaultRange?.to ?? '';
  state.defaults = f.defaultRange;

  const grains = f.grains ?? [];
  const wantedGrain = url.get('grain');
  state.grain = grains.includes(wantedGrain) ? wantedGrain : (f.defaultGrain ?? 'month');
  for (const b of document.querySelectorAll('[data-grain]')) {
    b.hidden = !grains.includes(b.dataset.grain);
    b.setAttribute('aria-pressed', String(b.dataset.grain === state.grain));
  }

  renderDatasetNote(f);
  buildBreakdownCards(f.dimensions.map((d) => d.name));
  return f;
}

/** One line under the filters: the fact table and which columns the figures come from. */
function renderDatasetNote(f) {
  const note = document.getElementById('dataset-note');
  if (!f.table) {
    note.textContent = '';
    return;
  }
  const r = f.roles;
  const parts = [
    `Table ${f.table}`,
    `revenue = ${r.amount}`,
    `date = ${r.event_time}`,
    r.order_id ? `orders = distinct ${r.order_id}` : 'no order id: rows are counted',
    r.quantity ? `units = ${r.quantity}` : undefined,
    r.profit ? `profit = ${r.profit}` : 'no profit column',
    ...(f.sources.find((s) => s.id === f.source)?.relations ?? []).map(
      (relation) => `${relation.dimensions.join(', ')} via ${relation.join}`,
    ),
  ].filter(Boolean);
  note.textContent = parts.join(' · ');
}

function buildBreakdownCards(names) {
  const section = document.getElementById('breakdowns');
  for (const el of section.querySelectorAll('.chart')) window.echarts.getInstanceByDom(el)?.dispose();
  section.innerHTML = names
    .map(
      (name) =>
        `<div class="card" data-dimension="${escapeHtml(name)}"><h2>By ${escapeHtml(dimensionLabel(name).toLowerCase())}</h2>` +
        `<div class="chart small" id="chart-by-${escapeHtml(name)}" role="img" aria-label="Revenue by ${escapeHtml(name)}"></div></div>`,
    )
    .join('');
  section.hidden = names.length === 0;
}

function deltaText(metric, previousRange, kind) {
  if (metric.value === null) return { text: 'no data in this period', cls: '' };
  if (metric.change === null) return { text: 'no data in the previous period', cls: '' };
  const up = metric.change > 0;
  const arrow = metric.change === 0 ? '→' : up ? '▲' : '▼';
  const amount =
    kind === 'points'
      ? `${(Math.abs(metric.change) * 100).toFixed(1)} pts`
      : `${(Math.abs(metric.change) * 100).toFixed(1)}%`;
  return {
    text: `${arrow} ${amount} vs ${previousRange.from} – ${previousRange.to}`,
    words: `${metric.change === 0 ? 'unchanged' : up ? 'up' : 'down'} ${amount} from the previous period (${previousRange.from} to ${previousRange.to})`,
    cls: metric.change === 0 ? '' : up ? 'up' : 'down',
  };
}

function renderKpis(k) {
  const rows = k.columns && !k.columns.orders;
  const tiles = [
    ['kpi-revenue', 'Revenue', k.revenue, format.money, 'relative'],
    ['kpi-orders', rows ? 'Rows' : 'Orders', k.orders, format.integer, 'relative'],
    [
      'kpi-aov',
      rows ? 'Average per row' : 'Average order value',
      k.averageOrderValue,
      format.money2,
      'relative',
    ],
    ['kpi-units', 'Units', k.units, format.integer, 'relative'],
    ['kpi-margin', 'Profit margin', k.profitMargin, (v) => format.percent(v, 1), 'points'],
  ];
  for (const [id, label, metric, fmt, kind] of tiles) {
    const tile = document.getElementById(id);
    tile.hidden = !metric;
    if (!metric) continue;
    tile.querySelector('.label').textContent = label;
    const d = k.previousRange ? deltaText(metric, k.previousRange, kind) : { text: '' };
    const valueText = fmt(metric.value);
    setTile(id, {
      label,
      value: metric.value,
      valueText,
      delta: d.text,
      deltaClass: d.cls,
      description: `${label} from ${k.range?.from} to ${k.range?.to}: ${valueText}, ${d.words ?? d.text}; previous period ${fmt(metric.previous)}.`,
    });
  }
}

function renderRevenue(r) {
  const chart = chartFor('chart-revenue');
  const total = r.points.reduce((s, p) => s + p.revenue, 0);
  const hasProfit = r.points.some((p) => p.profit !== undefined);
  const series = [
    {
      name: 'Revenue',
      type: r.grain === 'day' ? 'line' : 'bar',
      data: r.points.map((p) => p.revenue),
      showSymbol: false,
    },
  ];
  if (hasProfit) {
    series.push({ name: 'Profit', type: 'line', data: r.points.map((p) => p.profit), showSymbol: false });
  }
  chart.setOption(
    {
      aria: { enabled: true },
      color: palette,
      tooltip: { trigger: 'axis', valueFormatter: (v) => format.money(v) },
      grid: { left: 60, right: 16, top: 24, bottom: 40 },
      legend: { data: series.map((s) => s.name), top: 0 },
      xAxis: { type: 'category', data: r.points.map((p) => p.period) },
      yAxis: { type: 'value', axisLabel: { formatter: (v) => format.compact(v) } },
      dataZoom: r.points.length > 120 ? [{ type: 'inside' }, { type: 'slider', height: 16, bottom: 4 }] : [],
      series,
    },
    true,
  );
  document
    .getElementById('chart-revenue')
    .setAttribute(
      'aria-label',
      `Revenue by ${r.grain}: ${r.points.length} points, total ${format.money(total)}`,
    );
}

function renderBreakdown(b) {
  const id = `chart-by-${b.by}`;
  if (!document.getElementById(id)) return;
  const chart = chartFor(id);
  const shown = b.groups.slice(0, BREAKDOWN_BARS);
  const rest = b.groups.slice(BREAKDOWN_BARS);
  if (rest.length > 0) {
    shown.push({
      key: `Other (${rest.length})`,
      revenue: rest.reduce((s, g) => s + g.revenue, 0),
      share: rest.reduce((s, g) => s + (g.share ?? 0), 0),
    });
  }
  const groups = [...shown].reverse();
  chart.setOption(
    {
      aria: { enabled: true },
      color: palette,
      tooltip: {
        trigger: 'axis',
        axisPointer: { type: 'shadow' },
        valueFormatter: (v) => format.money(v),
      },
      grid: { left: 110, right: 16, top: 8, bottom: 24 },
      xAxis: {
        type: 'value',
        splitNumber: 3,
        axisLabel: { formatter: (v) => format.compact(v), hideOverlap: true },
      },
      yAxis: {
        type: 'category',
        data: groups.map((g) => g.key),
        axisLabel: { width: 100, overflow: 'truncate' },
      },
      series: [{ name: 'Revenue', type: 'bar', data: groups.map((g) => g.revenue) }],
    },
    true,
  );
  const text = shown
    .map((g) => `${g.key} ${format.money(g.revenue)} (${format.percent(g.share)})`)
    .join(', ');
  document.getElementById(id).setAttribute('aria-label', `Revenue by ${b.by}: ${text}`);
}

function renderTop(kind, t) {
  const card = document.getElementById(`card-top-${kind}`);
  card.hidden = !t.available;
  if (!t.available) return;
  const hasProfit = t.items.some((i) => i.profit !== undefined);
  const countLabel = state.meta?.roles?.order_id ? 'Orders' : 'Rows';
  const what = kind === 'products' ? 'Product' : 'Customer';
  document.querySelector(`#top-${kind} thead`).innerHTML =
    `<tr><th>${what}</th><th class="num">Revenue</th><th class="num">${countLabel}</th>` +
    `${hasProfit ? '<th class="num">Profit</th>' : ''}</tr>`;
  document.querySelector(`#top-${kind} tbody`).innerHTML = t.items
    .map(
      (i) =>
        `<tr><td title="${escapeHtml(i.id)}">${escapeHtml(i.name ?? i.id)}</td><td class="num">${format.money(i.revenue)}</td>` +
        `<td class="num">${format.integer(i.orders)}</td>${hasProfit ? `<td class="num">${format.money(i.profit)}</td>` : ''}</tr>`,
    )
    .join('');
  document.getElementById(`top-${kind}-note`).textContent = t.column ? `by ${t.column}` : '';
}

/** A run's schema changes: how many, each one's message on its own line (docs/contracts.md). */
function schemaChangesCell(changes) {
  if (changes.length === 0) return '–';
  return changes
    .map(
      (c) =>
        `<div class="schema-change" title="${escapeHtml(c.message)}">${escapeHtml(`${c.table}.${c.column}: ${c.change}`)}</div>`,
    )
    .join('');
}

function renderRuns(r) {
  const body = document.querySelector('#runs tbody');
  body.innerHTML = r.runs
    .map(
      (run) =>
        `<tr><td><code>${escapeHtml(run.runId)}</code></td><td><span class="status ${escapeHtml(run.status)}">${escapeHtml(run.status)}</span></td>` +
        `<td>${escapeHtml(format.dateTime(run.finishedAt))}</td><td>${escapeHtml(run.dataset ?? '–')}</td>` +
        `<td class="num">${format.integer(run.rowsIn)}</td><td class="num">${format.integer(run.rowsLoaded)}</td>` +
        `<td class="num">${format.integer(run.rowsQuarantined)}</td><td class="num">${format.integer(run.rowsDuplicate)}</td>` +
        `<td>${schemaChangesCell(run.schemaChanges ?? [])}</td></tr>`,
    )
    .join('');
}

async function refreshRevenue() {
  renderRevenue(await getJson(`/api/revenue${query({ grain: state.grain })}`));
}

async function refresh() {
  setPageState('loading');
  try {
    const runs = getJson('/api/runs');
    if (!state.meta?.table) {
      renderRuns(await runs);
      renderKpis({ revenue: null, orders: null, averageOrderValue: null });
      chartFor('chart-revenue').clear();
      document.querySelector('[aria-label="Top lists"]').hidden = true;
      showMessage(state.meta?.reason ?? 'No dataset to show.');
      setPageState('ready');
      return;
    }
    const dimensions = state.meta.dimensions.map((d) => d.name);
    const [kpis, products, customers, ...rest] = await Promise.all([
      getJson(`/api/kpis${query()}`),
      getJson(`/api/top${query({ kind: 'products' })}`),
      getJson(`/api/top${query({ kind: 'customers' })}`),
      runs,
      refreshRevenue(),
      ...dimensions.map((by) => getJson(`/api/breakdown${query({ by })}`)),
    ]);
    const [runList, , ...breakdowns] = rest;
    renderKpis(kpis);
    for (const b of breakdowns) renderBreakdown(b);
    renderTop('products', products);
    renderTop('customers', customers);
    document.querySelector('[aria-label="Top lists"]').hidden = !products.available && !customers.available;
    renderRuns(runList);
    showMessage('');
    setPageState('ready');
  } catch (error) {
    showMessage(error.message);
    setPageState('error');
  }
}

/** A new dataset: forget the previous one's dates, dimension filters and grain, then redraw. */
async function switchDataset(source) {
  const url = new URL(window.location.href);
  url.search = new URLSearchParams({ source }).toString();
  window.history.replaceState(null, '', url);
  await loadFilters();
  readFilters();
  await refresh();
}

let started = false;

async function start() {
  const first = await watchFreshness(async (f) => {
    if (!started) {
      window.location.reload();
      return;
    }
    await loadFilters();
    readFilters();
    await refresh();
    showMessage(`Updated: run ${f.warehouse?.runId ?? f.latestRun?.runId ?? ''} landed.`);
  });
  if (!first?.warehouse) {
    showMessage('No data loaded yet: run `etl run` (the page refreshes itself when a run lands).');
    setPageState('ready');
    return;
  }
  started = true;
  await loadFilters();
  readFilters();
  document.getElementById('filters').addEventListener('change', (event) => {
    if (event.target.id === 'filter-source') {
      switchDataset(event.target.value);
      return;
    }
    readFilters();
    refresh();
  });
  document.getElementById('filter-reset').addEventListener('click', () => {
    document.getElementById('filter-from').value = state.defaults?.from ?? '';
    document.getElementById('filter-to').value = state.defaults?.to ?? '';
    for (const select of document.querySelectorAll('#filter-dimensions select')) select.value = '';
    readFilters();
    refresh();
  });
  for (const button of document.querySelectorAll('[data-grain]')) {
    button.addEventListener('click', async () => {
      state.grain = button.dataset.grain;
      for (const b of document.querySelectorAll('[data-grain]'))
        b.setAttribute('aria-pressed', String(b === button));
      readFilters();
      setPageState('loading');
      await refreshRevenue();
      setPageState('ready');
    });
  }
  await refresh();
}

window.addEventListener('DOMContentLoaded', () => {
  start().catch((error) => {
    showMessage(error.message);
    setPageState('error');
  });
});
