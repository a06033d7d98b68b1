/* Small helpers around the vendored Chart.js, shared by the pages that draw charts. */
window.crmCharts = (function () {
  const palette = ["#0d6efd", "#fd7e14", "#20c997", "#6f42c1", "#dc3545", "#198754", "#0dcaf0", "#6c757d"];
  const money = (v) => Number(v).toLocaleString("zh-CN", { maximumFractionDigits: 0 });

  function line(canvasId, points, label) {
    const el = document.getElementById(canvasId);
    if (!el || !window.Chart) return null;
    return new Chart(el, {
      type: "line",
      data: {
        labels: points.map((p) => p[0].slice(5)),
        datasets: [{ label: label, data: points.map((p) => p[1]), borderColor: palette[0], backgroundColor: "rgba(13,110,253,.1)", fill: true, pointRadius: 0, tension: 0.2 }],
      },
      options: { maintainAspectRatio: false, animation: false, plugins: { legend: { display: false } }, scales: { y: { ticks: { callback: money } } } },
    });
  }

  function series(canvasId, type, labels, datasets, options) {
    const el = document.getElementById(canvasId);
    if (!el || !window.Chart) return null;
    return new Chart(el, {
      type: type,
      data: { labels: labels, datasets: datasets.map((d, i) => Object.assign({ borderColor: palette[i % palette.length], backgroundColor: palette[i % palette.length] }, d)) },
      options: Object.assign({ maintainAspectRatio: false, animation: false }, options || {}),
    });
  }

  return { line: line, series: series, palette: palette, money: money };
})();

/* The dashboards: AUM by tier, coverage by branch, interactions by channel, complaints by category. */
window.crmCharts.dashboard = function (seriesId, coverageId) {
  const read = (id) => { const el = document.getElementById(id); return el ? JSON.parse(el.textContent) : null; };
  const s = read(seriesId);
  if (!s || !window.Chart) return;
  const short = s.labels.map((d) => d.slice(5));
  const wan = (v) => crmCharts.money(v / 10000);
  const small = { legend: { position: "bottom", labels: { boxWidth: 10, font: { size: 11 } } } };
  crmCharts.series("chart-aum", "line", short,
    s.aum_by_tier.map((t) => ({ label: t.label, data: t.data, fill: true, pointRadius: 0, tension: 0.2, borderWidth: 1.5 })),
    { plugins: small, scales: { y: { stacked: true, ticks: { callback: wan } }, x: { ticks: { maxTicksLimit: 8 } } },
      elements: { line: { fill: true } }, interaction: { mode: "index", intersect: false } });
  const cov = read(coverageId) || [];
  crmCharts.series("chart-coverage", "bar", cov.map((c) => c.label),
    [{ label: "%", data: cov.map((c) => c.value), maxBarThickness: 28 }],
    { indexAxis: "y", plugins: { legend: { display: false } }, scales: { x: { min: 0, max: 100, ticks: { callback: (v) => v + "%" } } } });
  crmCharts.series("chart-channels", "bar", short,
    s.interactions_by_channel.map((c) => ({ label: c.label, data: c.data })),
    { plugins: small, scales: { x: { stacked: true, ticks: { maxTicksLimit: 8 } }, y: { stacked: true } } });
  const cats = s.complaints_by_category || [];
  if (cats.length) {
    crmCharts.series("chart-complaints", "bar", cats.map((c) => c.label),
      [{ label: "", data: cats.map((c) => c.count), maxBarThickness: 28 }],
      { indexAxis: "y", plugins: { legend: { display: false } }, scales: { x: { ticks: { precision: 0 } } } });
  }
};

/* An RM's performance: AUM, coverage and interactions over the period. */
window.crmCharts.performance = function (seriesId) {
  const el = document.getElementById(seriesId);
  if (!el || !window.Chart) return;
  const s = JSON.parse(el.textContent);
  const short = s.labels.map((d) => d.slice(5));
  crmCharts.series("chart-rm-aum", "line", short, [{ label: "AUM", data: s.aum.map((v) => v === null ? null : v / 10000), pointRadius: 0, tension: 0.2 }],
    { plugins: { legend: { display: false } }, scales: { y: { ticks: { callback: crmCharts.money } }, x: { ticks: { maxTicksLimit: 8 } } } });
  crmCharts.series("chart-rm-activity", "bar", short, [
    { label: s.interactions_label, data: s.interactions, yAxisID: "y" },
    { label: s.coverage_label, data: s.coverage, type: "line", yAxisID: "y1", pointRadius: 0 },
  ], { plugins: { legend: { position: "bottom", labels: { boxWidth: 10 } } },
       scales: { y: { position: "left", ticks: { precision: 0 } }, y1: { position: "right", min: 0, max: 100, grid: { drawOnChartArea: false } }, x: { ticks: { maxTicksLimit: 8 } } } });
};

/* Complaint statistics: complaints received by business category and by cause. */
window.crmCharts.statistics = function (dataId, label) {
  const el = document.getElementById(dataId);
  if (!el || !window.Chart) return;
  const data = JSON.parse(el.textContent);
  const bar = (id, rows) => crmCharts.series(id, "bar", rows.map((r) => r[0]), [{ label: label, data: rows.map((r) => r[1]) }],
    { indexAxis: "y", plugins: { legend: { display: false } }, scales: { x: { ticks: { precision: 0 } } } });
  bar("chart-categories", data.categories);
  bar("chart-causes", data.causes);
};

/* What a page draws is named on the <script> tag that loads this file, not in an inline script (the
   Content-Security-Policy allows none): data-draw is one of the functions above, data-series (and data-coverage)
   the ids of the page's json_script data, data-canvas and data-label what a single chart needs. */
(function (script) {
  if (!script) return;
  const d = script.dataset;
  const read = (id) => JSON.parse(document.getElementById(id).textContent);
  const draw = {
    line: () => crmCharts.line(d.canvas, read(d.series), d.label),
    dashboard: () => crmCharts.dashboard(d.series, d.coverage),
    performance: () => crmCharts.performance(d.series),
    statistics: () => crmCharts.statistics(d.series, d.label),
  }[d.draw];
  if (draw) draw();
})(document.currentScript);
