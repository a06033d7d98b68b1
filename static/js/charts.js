/* Every chart of the site is drawn here, over the vendored Chart.js (docs/architecture.md, "Look and feel").

   Chart.defaults is set once, from the design tokens of static/css/app.css (font, colours, grid), so a chart
   looks like the page around it: the --crm-* custom properties are read from :root, never repeated here.
   Conventions every chart follows:
   - an amount's value axis begins at zero (a cropped axis turns a 1 % wobble into a zigzag); a chart that
     needs another minimum says so (data-begin-at-zero="false" on the script tag, or `beginAtZero: false`);
   - amounts are shown in 万元 with the unit in the axis title, numbers formatted for zh-CN (1,234.5);
   - lines are smooth, with points only under the pointer; the tooltip follows the x position (index mode);
   - no animation (pages are read, not watched; the tests read a finished chart). */
window.crmCharts = (function () {
  const root = getComputedStyle(document.documentElement);
  const token = (name, fallback) => (root.getPropertyValue(name) || "").trim() || fallback;
  const colours = {
    primary: token("--crm-primary", "#1a4f8b"),
    success: token("--crm-success", "#1e7b4f"),
    warning: token("--crm-warning", "#b26a00"),
    danger: token("--crm-danger", "#c0392b"),
    muted: token("--crm-muted", "#6b7685"),
    text: token("--crm-text", "#1f2933"),
    grid: token("--crm-grid", "#e6eaf0"),
    surface: token("--crm-surface", "#ffffff"),
  };
  const palette = [1, 2, 3, 4, 5, 6, 7, 8].map((i, n) =>
    token("--crm-chart-" + i, ["#1a4f8b", "#d98c1f", "#2a9d8f", "#7b5ea7", "#c0392b", "#5b8fd1", "#8aa29e", "#9aa5b1"][n]));
  const locale = "zh-CN";
  const number = (digits) => new Intl.NumberFormat(locale, { maximumFractionDigits: digits });
  const whole = number(0);
  const oneDecimal = number(1);
  const money = (v) => whole.format(Number(v));
  const wan = (v) => oneDecimal.format(Number(v) / 10000); // yuan → 万元
  const wanTick = (v) => whole.format(Number(v) / 10000);
  // A translucent fill of a colour token (#rrggbb) for area charts.
  const tint = (hex, alpha) => {
    const m = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(hex);
    return m ? `rgba(${parseInt(m[1], 16)},${parseInt(m[2], 16)},${parseInt(m[3], 16)},${alpha})` : hex;
  };

  function setDefaults() {
    if (!window.Chart || Chart.defaults.crmReady) return;
    const d = Chart.defaults;
    d.crmReady = true;
    d.locale = locale;
    d.font.family = token("--crm-font-family", "sans-serif");
    d.font.size = 12;
    d.color = colours.muted;
    d.borderColor = colours.grid;
    d.maintainAspectRatio = false;
    d.animation = false;
    d.interaction.mode = "index";
    d.interaction.intersect = false;
    d.elements.line.tension = 0.3;
    d.elements.line.borderWidth = 2;
    d.elements.point.radius = 0;
    d.elements.point.hoverRadius = 4;
    d.elements.point.hitRadius = 8;
    d.elements.bar.borderRadius = 3;
    d.plugins.legend.position = "bottom";
    d.plugins.legend.labels.boxWidth = 10;
    d.plugins.legend.labels.boxHeight = 10;
    d.plugins.tooltip.backgroundColor = colours.text;
    d.plugins.tooltip.padding = 8;
    d.plugins.tooltip.cornerRadius = 4;
    d.plugins.tooltip.boxPadding = 4;
    d.plugins.tooltip.titleFont = { weight: "600" };
    d.scale.grid.color = colours.grid;
    d.scale.border.display = false;
    d.scale.ticks.color = colours.muted;
    d.scales.linear.beginAtZero = true;
    d.scales.linear.ticks.precision = 0;
    d.scales.category.grid = { display: false };
  }

  const axisTitle = (text) => (text ? { display: true, text: text, color: colours.muted, font: { size: 11 } } : { display: false });

  /* One series over dates: points [[iso date, amount in yuan], …]. The value axis is in 万元 from zero. */
  function line(canvasId, points, label, opts) {
    const el = document.getElementById(canvasId);
    if (!el || !window.Chart) return null;
    setDefaults();
    const o = opts || {};
    return new Chart(el, {
      type: "line",
      data: {
        labels: points.map((p) => p[0]),
        datasets: [{ label: label, data: points.map((p) => p[1]), borderColor: colours.primary,
                     backgroundColor: tint(colours.primary, 0.08), fill: "origin", pointHoverBackgroundColor: colours.primary }],
      },
      options: {
        plugins: {
          legend: { display: false },
          tooltip: { callbacks: { label: (c) => `${label}: ${money(c.parsed.y)}（${wan(c.parsed.y)} ${o.unit || ""}）` } },
        },
        scales: {
          x: { ticks: { maxTicksLimit: 7, maxRotation: 0, callback: function (v) { return this.getLabelForValue(v).slice(5); } } },
          y: { beginAtZero: o.beginAtZero !== false, title: axisTitle(o.unit), ticks: { callback: wanTick } },
        },
      },
    });
  }

  function series(canvasId, type, labels, datasets, options) {
    const el = document.getElementById(canvasId);
    if (!el || !window.Chart) return null;
    setDefaults();
    return new Chart(el, {
      type: type,
      data: { labels: labels, datasets: datasets.map((d, i) => Object.assign({ borderColor: palette[i % palette.length], backgroundColor: palette[i % palette.length] }, d)) },
      options: options || {},
    });
  }

  /* A horizontal bar chart of counts (complaints by category or cause, coverage). */
  function bars(canvasId, rows, label, extra) {
    return series(canvasId, "bar", rows.map((r) => r[0]), [{ label: label, data: rows.map((r) => r[1]), backgroundColor: colours.primary, maxBarThickness: 22 }],
      Object.assign({ indexAxis: "y", plugins: { legend: { display: false } }, scales: { x: { beginAtZero: true, ticks: { precision: 0 } }, y: { grid: { display: false } } } }, extra || {}));
  }

  return { line: line, series: series, bars: bars, palette: palette, colours: colours, money: money, wan: wan, wanTick: wanTick, tint: tint, axisTitle: axisTitle, setDefaults: setDefaults };
})();

/* The dashboards: AUM by tier, coverage by branch, interactions by channel, complaints by category. */
window.crmCharts.dashboard = function (seriesId, coverageId, unit) {
  const read = (id) => { const el = document.getElementById(id); return el ? JSON.parse(el.textContent) : null; };
  const s = read(seriesId);
  if (!s || !window.Chart) return;
  const c = crmCharts;
  const short = s.labels.map((d) => d.slice(5));
  const dates = { ticks: { maxTicksLimit: 8, maxRotation: 0 } };
  c.series("chart-aum", "line", short,
    s.aum_by_tier.map((t, i) => ({ label: t.label, data: t.data, fill: i === 0 ? "origin" : "-1", borderWidth: 1.5, backgroundColor: c.tint(c.palette[i % c.palette.length], 0.75) })),
    { scales: { y: { stacked: true, beginAtZero: true, title: c.axisTitle(unit), ticks: { callback: c.wanTick } }, x: dates },
      plugins: { tooltip: { callbacks: { label: (ctx) => `${ctx.dataset.label}: ${c.wan(ctx.parsed.y)} ${unit || ""}` } } } });
  const cov = read(coverageId) || [];
  c.bars("chart-coverage", cov.map((r) => [r.label, r.value]), "%",
    { scales: { x: { min: 0, max: 100, ticks: { callback: (v) => v + "%" } }, y: { grid: { display: false } } },
      plugins: { legend: { display: false }, tooltip: { callbacks: { label: (ctx) => `${ctx.parsed.x}%` } } } });
  c.series("chart-channels", "bar", short,
    s.interactions_by_channel.map((ch) => ({ label: ch.label, data: ch.data, borderRadius: 0 })),
    { scales: { x: Object.assign({ stacked: true }, dates), y: { stacked: true, beginAtZero: true } } });
  const cats = s.complaints_by_category || [];
  if (cats.length) c.bars("chart-complaints", cats.map((r) => [r.label, r.count]), "");
};

/* An RM's performance: AUM (already in 万元), and interactions with coverage over the period. */
window.crmCharts.performance = function (seriesId, unit) {
  const el = document.getElementById(seriesId);
  if (!el || !window.Chart) return;
  const s = JSON.parse(el.textContent);
  const c = crmCharts;
  const short = s.labels.map((d) => d.slice(5));
  const dates = { ticks: { maxTicksLimit: 8, maxRotation: 0 } };
  c.series("chart-rm-aum", "line", short,
    [{ label: "AUM", data: s.aum.map((v) => v === null ? null : v / 10000), fill: "origin", backgroundColor: c.tint(c.colours.primary, 0.08), borderColor: c.colours.primary }],
    { plugins: { legend: { display: false }, tooltip: { callbacks: { label: (ctx) => `${c.money(ctx.parsed.y)} ${unit || ""}` } } },
      scales: { y: { beginAtZero: true, title: c.axisTitle(unit), ticks: { callback: c.money } }, x: dates } });
  c.series("chart-rm-activity", "bar", short, [
    { label: s.interactions_label, data: s.interactions, yAxisID: "y", backgroundColor: c.tint(c.colours.primary, 0.7) },
    { label: s.coverage_label, data: s.coverage, type: "line", yAxisID: "y1", borderColor: c.palette[1], backgroundColor: c.palette[1] },
  ], { scales: { y: { position: "left", beginAtZero: true, ticks: { precision: 0 } },
                 y1: { position: "right", min: 0, max: 100, grid: { drawOnChartArea: false }, ticks: { callback: (v) => v + "%" } }, x: dates } });
};

/* Complaint statistics: complaints received by business category and by cause. */
window.crmCharts.statistics = function (dataId, label) {
  const el = document.getElementById(dataId);
  if (!el || !window.Chart) return;
  const data = JSON.parse(el.textContent);
  crmCharts.bars("chart-categories", data.categories, label);
  crmCharts.bars("chart-causes", data.causes, label);
};

/* What a page draws is named on the <script> tag that loads this file, not in an inline script (the
   Content-Security-Policy allows none): data-draw is one of the functions above, data-series (and data-coverage)
   the ids of the page's json_script data, data-canvas and data-label what a single chart needs, data-unit the
   amount unit shown as the value axis title (万元), data-begin-at-zero="false" for a chart that may crop. */
(function (script) {
  if (!script) return;
  const d = script.dataset;
  const read = (id) => JSON.parse(document.getElementById(id).textContent);
  const draw = {
    line: () => crmCharts.line(d.canvas, read(d.series), d.label, { unit: d.unit, beginAtZero: d.beginAtZero !== "false" }),
    dashboard: () => crmCharts.dashboard(d.series, d.coverage, d.unit),
    performance: () => crmCharts.performance(d.series, d.unit),
    statistics: () => crmCharts.statistics(d.series, d.label),
  }[d.draw];
  if (draw) draw();
})(document.currentScript);
