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
