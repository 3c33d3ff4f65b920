/* The sales monitoring page: KPI tiles, revenue over time, breakdowns, top lists, run history. */
import {
  chartFor,
  escapeHtml,
  format,
  getJson,
  palette,
  setPageState,
  setTile,
  showMessage,
  watchFreshness,
} from './common.js';

const state = { grain: 'month', filters: {} };

function query(extra = {}) {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries({ ...state.filters, ...extra })) if (v) params.set(k, v);
  const text = params.toString();
  return text ? `?${text}` : '';
}

function readFilters() {
  const value = (id) => document.getElementById(id).value || undefined;
  state.filters = {
    from: value('filter-from'),
    to: value('filter-to'),
    region: value('filter-region'),
    category: value('filter-category'),
  };
  const url = new URL(window.location.href);
  url.search = query();
  window.history.replaceState(null, '', url);
}

async function loadFilters() {
  const f = await getJson('/api/filters');
  const fill = (id, values) => {
    const select = document.getElementById(id);
    const keep = select.value;
    select.length = 1;
    for (const v of values) select.add(new Option(v, v));
    select.value = values.includes(keep) ? keep : '';
  };
  fill('filter-region', f.regions);
  fill('filter-category', f.categories);
  for (const id of ['filter-from', 'filter-to']) {
    const input = document.getElementById(id);
    input.min = f.minDate ?? '';
    input.max = f.maxDate ?? '';
  }
  const url = new URL(window.location.href).searchParams;
  document.getElementById('filter-from').value = url.get('from') ?? f.defaultRange?.from ?? '';
  document.getElementById('filter-to').value = url.get('to') ?? f.defaultRange?.to ?? '';
  if (url.get('region')) document.getElementById('filter-region').value = url.get('region');
  if (url.get('category')) document.getElementById('filter-category').value = url.get('category');
  state.defaults = f.defaultRange;
  return f;
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
  const tiles = [
    ['kpi-revenue', 'Revenue', k.revenue, format.money, 'relative'],
    ['kpi-orders', 'Orders', k.orders, format.integer, 'relative'],
    ['kpi-aov', 'Average order value', k.averageOrderValue, format.money2, 'relative'],
    ['kpi-margin', 'Profit margin', k.profitMargin, (v) => format.percent(v, 1), 'points'],
  ];
  for (const [id, label, metric, fmt, kind] of tiles) {
    const d = deltaText(metric, k.previousRange, kind);
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
  chart.setOption(
    {
      aria: { enabled: true },
      color: palette,
      tooltip: { trigger: 'axis' },
      grid: { left: 60, right: 16, top: 24, bottom: 40 },
      legend: { data: ['Revenue', 'Profit'], top: 0 },
      xAxis: { type: 'category', data: r.points.map((p) => p.period) },
      yAxis: { type: 'value', axisLabel: { formatter: (v) => format.compact(v) } },
      dataZoom: r.points.length > 120 ? [{ type: 'inside' }, { type: 'slider', height: 16, bottom: 4 }] : [],
      series: [
        {
          name: 'Revenue',
          type: r.grain === 'day' ? 'line' : 'bar',
          data: r.points.map((p) => p.revenue),
          showSymbol: false,
        },
        { name: 'Profit', type: 'line', data: r.points.map((p) => p.profit), showSymbol: false },
      ],
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

function renderBreakdown(id, b) {
  const chart = chartFor(id);
  const groups = [...b.groups].reverse();
  chart.setOption(
    {
      aria: { enabled: true },
      color: palette,
      tooltip: {
        trigger: 'axis',
        axisPointer: { type: 'shadow' },
        valueFormatter: (v) => format.money(v),
      },
      grid: { left: 90, right: 16, top: 8, bottom: 24 },
      xAxis: { type: 'value', axisLabel: { formatter: (v) => format.compact(v) } },
      yAxis: { type: 'category', data: groups.map((g) => g.key) },
      series: [{ name: 'Revenue', type: 'bar', data: groups.map((g) => g.revenue) }],
    },
    true,
  );
  const text = b.groups
    .map((g) => `${g.key} ${format.money(g.revenue)} (${format.percent(g.share)})`)
    .join(', ');
  document.getElementById(id).setAttribute('aria-label', `Revenue by ${b.by}: ${text}`);
}

function renderTop(id, t) {
  const body = document.querySelector(`#${id} tbody`);
  body.innerHTML = t.items
    .map(
      (i) =>
        `<tr><td title="${escapeHtml(i.id)}">${escapeHtml(i.name ?? i.id)}</td><td class="num">${format.money(i.revenue)}</td>` +
        `<td class="num">${format.integer(i.orders)}</td><td class="num">${format.money(i.profit)}</td></tr>`,
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
        `<td class="num">${format.integer(run.rowsQuarantined)}</td><td class="num">${format.integer(run.rowsDuplicate)}</td></tr>`,
    )
    .join('');
}

async function refreshRevenue() {
  renderRevenue(await getJson(`/api/revenue${query({ grain: state.grain })}`));
}

async function refresh() {
  setPageState('loading');
  try {
    const [kpis, region, category, segment, products, customers, runs] = await Promise.all([
      getJson(`/api/kpis${query()}`),
      getJson(`/api/breakdown${query({ by: 'region' })}`),
      getJson(`/api/breakdown${query({ by: 'category' })}`),
      getJson(`/api/breakdown${query({ by: 'segment' })}`),
      getJson(`/api/top${query({ kind: 'products' })}`),
      getJson(`/api/top${query({ kind: 'customers' })}`),
      getJson('/api/runs'),
      refreshRevenue(),
    ]);
    renderKpis(kpis);
    renderBreakdown('chart-region', region);
    renderBreakdown('chart-category', category);
    renderBreakdown('chart-segment', segment);
    renderTop('top-products', products);
    renderTop('top-customers', customers);
    renderRuns(runs);
    showMessage('');
    setPageState('ready');
  } catch (error) {
    showMessage(error.message);
    setPageState('error');
  }
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
  document.getElementById('filters').addEventListener('change', () => {
    readFilters();
    refresh();
  });
  document.getElementById('filter-reset').addEventListener('click', () => {
    document.getElementById('filter-from').value = state.defaults?.from ?? '';
    document.getElementById('filter-to').value = state.defaults?.to ?? '';
    document.getElementById('filter-region').value = '';
    document.getElementById('filter-category').value = '';
    readFilters();
    refresh();
  });
  for (const button of document.querySelectorAll('[data-grain]')) {
    button.addEventListener('click', async () => {
      state.grain = button.dataset.grain;
      for (const b of document.querySelectorAll('[data-grain]'))
        b.setAttribute('aria-pressed', String(b === button));
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
