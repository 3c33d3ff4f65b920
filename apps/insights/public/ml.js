/*
 * The ML insights page for one dataset (the selector; default: the newest): forecast with intervals and holdout
 * accuracy at the grain the analyze stage chose (month, week or day), segments, anomalies, drivers. An output the
 * stage skipped for this dataset (no customers, no discount, too short a history) shows its reason.
 */
import {
  chartFor,
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

/** Axis tooltip of the revenue charts; a gap in a series (no interval, no baseline) reads as a dash. */
const MONEY_TOOLTIP = {
  trigger: 'axis',
  valueFormatter: (v) => (v === null || v === undefined ? '–' : format.money(v)),
};

/** Words for the analyze stage's grains (`ml_metrics.forecast_grain`, `anomaly_grain`). */
const GRAIN_WORDS = {
  quarter: { adjective: 'Quarterly', unit: 'quarter', units: 'quarters' },
  month: { adjective: 'Monthly', unit: 'month', units: 'months' },
  week: { adjective: 'Weekly', unit: 'week', units: 'weeks' },
  day: { adjective: 'Daily', unit: 'day', units: 'days' },
};

function methodName(method, grain, season) {
  const words = GRAIN_WORDS[grain] ?? GRAIN_WORDS.month;
  const names = {
    'holt-winters': `additive Holt-Winters (trend + ${season ?? ''}-${words.unit} season)`,
    'seasonal-naive': 'seasonal naive (too little history for Holt-Winters)',
    naive: 'naive (too little history for a seasonal model)',
  };
  return names[method] ?? method;
}

const state = { source: undefined };

function sourceQuery() {
  return state.source ? `?${new URLSearchParams({ source: state.source })}` : '';
}

function metric(metrics, name) {
  return metrics[name]?.value ?? null;
}

/** The note of a `skipped_<output>` metric: why the analyze stage left an output out for this dataset. */
function skipped(metrics, output) {
  return metrics?.[`skipped_${output}`]?.note ?? null;
}

function renderAccuracy(metrics, grain) {
  const words = GRAIN_WORDS[grain] ?? GRAIN_WORDS.month;
  const ratio = metric(metrics, 'holdout_mae_ratio');
  if (ratio === null) {
    const why = skipped(metrics, 'forecast') ? 'no forecast' : 'too short a history for a holdout';
    for (const id of ['metric-ratio', 'metric-mase', 'metric-smape', 'metric-coverage']) {
      setTile(id, {
        label: id,
        value: null,
        valueText: 'n/a',
        delta: why,
        description: `No holdout evaluation: ${why}.`,
      });
    }
    return;
  }
  const months = metrics.holdout_periods?.note ?? metrics.holdout_months?.note ?? '';
  setTile('metric-ratio', {
    label: 'MAE ratio',
    value: ratio,
    valueText: format.number(ratio, 3),
    delta:
      ratio < 1
        ? `Holt-Winters error ${format.percent(1 - ratio, 0)} below seasonal naive`
        : 'worse than seasonal naive',
    deltaClass: ratio < 1 ? 'up' : 'down',
    description: `Holdout (${months}) mean absolute error of Holt-Winters divided by that of seasonal naive: ${format.number(ratio, 3)}.`,
  });
  const mase = metric(metrics, 'holdout_mase_model');
  const maseNaive = metric(metrics, 'holdout_mase_naive');
  setTile('metric-mase', {
    label: 'MASE',
    value: mase,
    valueText: format.number(mase, 3),
    delta: `seasonal naive ${format.number(maseNaive, 3)}`,
    description: `MASE on the holdout: Holt-Winters ${format.number(mase, 3)}, seasonal naive ${format.number(maseNaive, 3)}.`,
  });
  const smape = metric(metrics, 'holdout_smape_model');
  const smapeNaive = metric(metrics, 'holdout_smape_naive');
  setTile('metric-smape', {
    label: 'sMAPE',
    value: smape,
    valueText: `${format.number(smape, 1)}%`,
    delta: `seasonal naive ${format.number(smapeNaive, 1)}%`,
    description: `sMAPE on the holdout: Holt-Winters ${format.number(smape, 1)} percent, seasonal naive ${format.number(smapeNaive, 1)} percent.`,
  });
  const coverage = metric(metrics, 'holdout_interval_coverage');
  setTile('metric-coverage', {
    label: 'Coverage',
    value: coverage,
    valueText: format.percent(coverage, 0),
    delta: `of ${format.integer(metric(metrics, 'holdout_periods') ?? metric(metrics, 'holdout_months'))} held-out ${words.units} inside the band`,
    description: `${format.percent(coverage, 0)} of the held-out ${words.units} fell inside the 95% prediction interval.`,
  });
}

function renderForecast(f) {
  const m = f.metrics;
  const words = GRAIN_WORDS[f.grain] ?? GRAIN_WORDS.month;
  document.getElementById('forecast-title').textContent = `${words.adjective} revenue forecast`;
  const reason = skipped(m, 'forecast');
  if (reason) {
    document.getElementById('forecast-note').textContent = `No forecast for this dataset: ${reason}.`;
    chartFor('chart-forecast').clear();
    return;
  }
  const method = m.forecast_method?.note ?? 'unknown';
  const params =
    metric(m, 'hw_alpha') === null
      ? ''
      : ` Smoothing α = ${format.number(metric(m, 'hw_alpha'), 3)}, β = ${format.number(metric(m, 'hw_beta'), 3)}, γ = ${format.number(metric(m, 'hw_gamma'), 3)}, fitted by minimising one-step squared error.`;
  const held = metric(m, 'holdout_periods') ?? metric(m, 'holdout_months');
  const holdout =
    metric(m, 'holdout_mae_ratio') === null
      ? ''
      : ` The dotted line is the forecast made without the last ${held} ${words.units} (${(m.holdout_periods ?? m.holdout_months)?.note}), compared with seasonal naive.`;
  document.getElementById('forecast-note').textContent =
    `${methodName(method, f.grain, metric(m, 'forecast_period'))}, fitted on ${format.integer(metric(m, 'forecast_periods') ?? metric(m, 'forecast_months'))} ${words.units} (${m.forecast_months?.note ?? ''}); shaded: 95% prediction interval.${params}${holdout}`;
  const months = f.points.map((p) => p.month);
  const lower = f.points.map((p) => p.lower);
  const band = f.points.map((p) => (p.upper === null ? null : p.upper - p.lower));
  const chart = chartFor('chart-forecast');
  chart.setOption(
    {
      aria: { enabled: true },
      color: palette,
      tooltip: MONEY_TOOLTIP,
      legend: {
        top: 0,
        data: ['Actual', 'Fitted', 'Forecast', 'Holdout forecast', 'Seasonal naive (holdout)'],
      },
      grid: { left: 60, right: 16, top: 40, bottom: 30 },
      xAxis: { type: 'category', data: months },
      yAxis: { type: 'value', axisLabel: { formatter: (v) => format.compact(v) } },
      series: [
        {
          name: 'band-lower',
          type: 'line',
          data: lower,
          stack: 'band',
          // Lower bounds can be negative: stack on the value itself, not per sign.
          stackStrategy: 'all',
          lineStyle: { opacity: 0 },
          symbol: 'none',
          tooltip: { show: false },
        },
        {
          name: '95% interval',
          type: 'line',
          data: band,
          stack: 'band',
          // Lower bounds can be negative: stack on the value itself, not per sign.
          stackStrategy: 'all',
          lineStyle: { opacity: 0 },
          symbol: 'none',
          areaStyle: { color: 'rgba(232,131,58,0.2)' },
          tooltip: { show: false },
        },
        {
          name: 'Actual',
          type: 'line',
          data: f.points.map((p) => p.actual),
          color: palette[0],
          symbolSize: 4,
        },
        {
          name: 'Fitted',
          type: 'line',
          data: f.points.map((p) => p.fitted),
          color: '#9aa3b5',
          lineStyle: { type: 'dashed', width: 1 },
          symbol: 'none',
        },
        {
          name: 'Forecast',
          type: 'line',
          data: f.points.map((p) => p.forecast),
          color: palette[1],
          symbolSize: 4,
        },
        {
          name: 'Holdout forecast',
          type: 'line',
          data: f.points.map((p) => p.holdout_forecast),
          color: palette[2],
          lineStyle: { type: 'dotted', width: 2 },
          symbolSize: 3,
        },
        {
          name: 'Seasonal naive (holdout)',
          type: 'line',
          data: f.points.map((p) => p.holdout_naive),
          color: palette[3],
          lineStyle: { type: 'dotted', width: 1 },
          symbol: 'none',
        },
      ],
    },
    true,
  );
  const future = f.points.filter((p) => p.forecast !== null);
  document
    .getElementById('chart-forecast')
    .setAttribute(
      'aria-label',
      `${words.adjective} revenue ${months[0]} to ${months.at(-1)}; forecast for ${future.length} ${words.units} totals ${format.money(future.reduce((s, p) => s + p.forecast, 0))}.`,
    );
}

function renderSegments(s) {
  const m = s.metrics;
  const reason = skipped(m, 'segments');
  const none = Boolean(reason) || s.profiles.length === 0;
  document.getElementById('chart-segments').hidden = none;
  document.getElementById('card-segment-profiles').hidden = none;
  if (none) {
    document.getElementById('segments-note').textContent =
      `No segments for this dataset: ${reason ?? 'none'}.`;
    return;
  }
  document.getElementById('segments-note').textContent =
    `${format.integer(metric(m, 'customers'))} customers clustered on standardised recency, log frequency and log revenue; ` +
    `k = ${format.integer(metric(m, 'segments_k'))} chosen by the best mean silhouette (${format.number(metric(m, 'segments_silhouette'), 2)}) over k = 2..6.`;
  const chart = chartFor('chart-segments');
  chart.setOption(
    {
      aria: { enabled: true },
      color: palette,
      tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } },
      grid: { left: 110, right: 16, top: 8, bottom: 24 },
      xAxis: { type: 'value' },
      yAxis: { type: 'category', data: [...s.profiles].reverse().map((p) => p.label) },
      series: [{ name: 'Customers', type: 'bar', data: [...s.profiles].reverse().map((p) => p.customers) }],
    },
    true,
  );
  document.querySelector('#segment-profiles tbody').innerHTML = s.profiles
    .map(
      (p) =>
        `<tr><td>${escapeHtml(p.label)}</td><td class="num">${format.integer(p.customers)} (${format.percent(p.customer_share, 0)})</td>` +
        `<td class="num">${format.integer(p.mean_recency_days)}</td><td class="num">${format.number(p.mean_frequency, 1)}</td>` +
        `<td class="num">${format.money(p.mean_monetary)}</td><td class="num">${format.percent(p.revenue_share)}</td></tr>`,
    )
    .join('');
  document
    .getElementById('chart-segments')
    .setAttribute(
      'aria-label',
      `Customers per segment: ${s.profiles.map((p) => `${p.label} ${p.customers}`).join(', ')}`,
    );
}

function renderAnomalies(a) {
  const reason = skipped(a.metrics, 'anomalies');
  const grain = String(a.metrics.anomaly_grain?.note ?? 'day').split(':')[0];
  const words = GRAIN_WORDS[grain] ?? GRAIN_WORDS.day;
  document.getElementById('anomalies-title').textContent = `${words.adjective} revenue anomalies`;
  document.getElementById('anomalies-period').textContent =
    words.unit.charAt(0).toUpperCase() + words.unit.slice(1);
  document.getElementById('anomalies-baseline').textContent =
    `Baseline (median of the 28 ${words.units} before)`;
  if (reason) {
    document.getElementById('anomalies-rule').textContent = `No anomaly scores for this dataset: ${reason}.`;
    chartFor('chart-anomalies').clear();
    document.querySelector('#anomalies tbody').innerHTML = '';
    return;
  }
  const flaggedCount = metric(a.metrics, 'anomaly_flagged');
  const points = metric(a.metrics, 'anomaly_points') ?? metric(a.metrics, 'anomaly_days');
  document.getElementById('anomalies-rule').textContent =
    `Rule: a ${words.unit} is flagged when ${a.rule ?? ''}. ${format.integer(flaggedCount)} of ${format.integer(points)} ${words.units} flagged; the table lists the strongest.`;
  const chart = chartFor('chart-anomalies');
  chart.setOption(
    {
      aria: { enabled: true },
      color: palette,
      tooltip: MONEY_TOOLTIP,
      legend: { top: 0, data: [`${words.adjective} revenue`, 'Baseline (28-point median)', 'Anomaly'] },
      grid: { left: 60, right: 16, top: 36, bottom: 50 },
      xAxis: { type: 'category', data: a.points.map((p) => p.date) },
      yAxis: { type: 'value', axisLabel: { formatter: (v) => format.compact(v) } },
      dataZoom: [{ type: 'inside' }, { type: 'slider', height: 16, bottom: 6 }],
      series: [
        {
          name: `${words.adjective} revenue`,
          type: 'line',
          data: a.points.map((p) => p.revenue),
          symbol: 'none',
          lineStyle: { width: 1 },
        },
        {
          name: 'Baseline (28-point median)',
          type: 'line',
          data: a.points.map((p) => p.baseline),
          symbol: 'none',
          lineStyle: { width: 1, type: 'dashed' },
          color: '#9aa3b5',
        },
        {
          name: 'Anomaly',
          type: 'scatter',
          data: a.points.map((p) => (p.is_anomaly ? p.revenue : null)),
          color: '#b42318',
          symbolSize: 7,
        },
      ],
    },
    true,
  );
  document.getElementById('anomalies').hidden = a.flagged.length === 0;
  document.querySelector('#anomalies tbody').innerHTML = a.flagged
    .slice(0, 10)
    .map(
      (p) =>
        `<tr><td>${escapeHtml(p.date)}</td><td class="num">${format.money(p.revenue)}</td><td class="num">${format.money(p.baseline)}</td>` +
        `<td class="num">${format.number(p.score, 1)}</td><td>${escapeHtml(p.direction)}</td></tr>`,
    )
    .join('');
  document
    .getElementById('chart-anomalies')
    .setAttribute(
      'aria-label',
      `${words.adjective} revenue over ${a.points.length} ${words.units} with ${flaggedCount} anomalous ${words.units} marked.`,
    );
}

function renderDrivers(d) {
  const m = d.metrics;
  const r = metric(m, 'discount_margin_correlation');
  const slope = metric(m, 'discount_margin_slope');
  const hasProfit = d.groups.some((g) => g.profit_share !== null);
  const left = [skipped(m, 'drivers'), skipped(m, 'discount_margin')].filter(Boolean);
  document.getElementById('drivers-note').textContent =
    r === null
      ? `Share of revenue${hasProfit ? ' and profit' : ''} by group (${m.drivers_dimensions?.note ?? 'no dimension'}).${left.length ? ` Left out: ${left.join('; ')}.` : ''}`
      : `Across ${format.integer(metric(m, 'discount_margin_lines'))} order lines, discount and line margin correlate at r = ${format.number(r, 2)}; ` +
        `each 10 points of discount go with ${format.number(slope * 10, 1)} points of margin (least squares; an association, not a causal effect).`;
  const groups = d.groups.filter((g) => g.dimension !== 'discount');
  const labels = groups.map((g) => `${g.dimension}: ${g.key}`);
  chartFor('chart-drivers-share').setOption(
    {
      aria: { enabled: true },
      color: palette,
      tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' }, valueFormatter: (v) => format.percent(v) },
      legend: { top: 0, data: hasProfit ? ['Revenue share', 'Profit share'] : ['Revenue share'] },
      grid: { left: 150, right: 16, top: 28, bottom: 24 },
      xAxis: { type: 'value', axisLabel: { formatter: (v) => format.percent(v, 0) } },
      yAxis: { type: 'category', data: [...labels].reverse() },
      series: [
        { name: 'Revenue share', type: 'bar', data: [...groups].reverse().map((g) => g.revenue_share) },
        ...(hasProfit
          ? [{ name: 'Profit share', type: 'bar', data: [...groups].reverse().map((g) => g.profit_share) }]
          : []),
      ],
    },
    true,
  );
  const bands = ['none', '1-20%', '21-40%', 'over 40%'];
  const byBand = new Map(d.groups.filter((g) => g.dimension === 'discount').map((g) => [g.key, g]));
  const present = bands.filter((b) => byBand.has(b));
  const noMargin = present.length === 0 || !hasProfit;
  document.getElementById('chart-drivers-margin').hidden = noMargin;
  // Without the margin chart, the share chart takes the whole row.
  document.getElementById('chart-drivers-share').classList.toggle('wide', noMargin);
  if (noMargin) return;
  chartFor('chart-drivers-margin').setOption(
    {
      aria: { enabled: true },
      color: [palette[2]],
      tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' }, valueFormatter: (v) => format.percent(v) },
      grid: { left: 60, right: 16, top: 28, bottom: 30 },
      title: { text: 'Profit margin by discount band', textStyle: { fontSize: 12, fontWeight: 'normal' } },
      xAxis: { type: 'category', data: present },
      yAxis: { type: 'value', axisLabel: { formatter: (v) => format.percent(v, 0) } },
      series: [{ name: 'Margin', type: 'bar', data: present.map((b) => byBand.get(b).margin) }],
    },
    true,
  );
}

/** The dataset selector: every loaded dataset, the one in the URL or else the default selected. */
async function loadDatasets() {
  const { datasets, default: fallback } = await getJson('/api/datasets');
  const wanted = new URL(window.location.href).searchParams.get('source');
  state.source = datasets.some((d) => d.id === wanted) ? wanted : (fallback ?? undefined);
  fillDatasetSelect(document.getElementById('filter-source'), datasets, state.source);
}

async function refresh() {
  setPageState('loading');
  try {
    const q = sourceQuery();
    const [forecast, segments, anomalies, drivers] = await Promise.all([
      getJson(`/api/forecast${q}`),
      getJson(`/api/segments${q}`),
      getJson(`/api/anomalies${q}`),
      getJson(`/api/drivers${q}`),
    ]);
    document.querySelector('main').classList.toggle('unavailable', !forecast.available);
    if (!forecast.available) {
      showMessage(
        `No ML results for dataset ${forecast.source ?? ''} yet: the analyze stage has not run for it (POST /v1/analyze on the loader).`,
      );
      setPageState('ready');
      return;
    }
    renderAccuracy(forecast.metrics, forecast.grain);
    renderForecast(forecast);
    renderSegments(segments);
    renderAnomalies(anomalies);
    renderDrivers(drivers);
    showMessage('');
    setPageState('ready');
  } catch (error) {
    showMessage(error.message);
    setPageState('error');
  }
}

async function start() {
  await watchFreshness(async (f) => {
    await loadDatasets();
    await refresh();
    showMessage(`Updated: run ${f.warehouse?.runId ?? f.latestRun?.runId ?? ''} landed.`);
  });
  await loadDatasets();
  document.getElementById('filter-source').addEventListener('change', (event) => {
    state.source = event.target.value;
    const url = new URL(window.location.href);
    url.search = sourceQuery();
    window.history.replaceState(null, '', url);
    refresh();
  });
  await refresh();
}

window.addEventListener('DOMContentLoaded', () => {
  start().catch((error) => {
    showMessage(error.message);
    setPageState('error');
  });
});
