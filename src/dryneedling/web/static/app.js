// Body chart: a click (or Enter/Space) on a region toggles it in the chart's <select multiple> fallback
// and fires "change", so the same form logic (and htmx trigger) runs as when the list is used.
// Handlers are delegated from document so they keep working after htmx swaps the chart.
(function () {
  "use strict";

  function selectFor(chartBox) {
    var id = chartBox && chartBox.getAttribute("data-chart-for");
    return id ? document.getElementById(id) : null;
  }

  function paint(chartBox, select) {
    var chosen = {};
    Array.prototype.forEach.call(select.selectedOptions, function (o) { chosen[o.value] = true; });
    chartBox.querySelectorAll("[data-region]").forEach(function (g) {
      var on = !!chosen[g.getAttribute("data-region")];
      g.setAttribute("aria-pressed", on ? "true" : "false");
      g.classList.toggle("region--selected", on);
    });
  }

  function toggle(group) {
    var chartBox = group.closest("[data-chart-for]");
    var select = selectFor(chartBox);
    if (!select) { return; }
    var option = select.querySelector('option[value="' + group.getAttribute("data-region") + '"]');
    if (!option) { return; }
    option.selected = !option.selected;
    paint(chartBox, select);
    select.dispatchEvent(new Event("change", { bubbles: true }));
  }

  document.addEventListener("click", function (event) {
    var group = event.target.closest && event.target.closest("[data-chart-for] [data-region]");
    if (group) { toggle(group); }
    var tab = event.target.closest && event.target.closest(".tab[data-tab]");
    if (tab) {
      var root = tab.closest("#report") || document;
      root.querySelectorAll(".tab[data-tab]").forEach(function (t) {
        t.setAttribute("aria-selected", t === tab ? "true" : "false");
      });
      root.querySelectorAll(".tab-panel").forEach(function (panel) {
        panel.hidden = panel.getAttribute("data-panel") !== tab.getAttribute("data-tab");
      });
    }
  });

  document.addEventListener("keydown", function (event) {
    if (event.key !== "Enter" && event.key !== " ") { return; }
    var group = event.target.closest && event.target.closest("[data-chart-for] [data-region]");
    if (group) { event.preventDefault(); toggle(group); }
  });

  // Keep the chart in step when the list is used directly.
  document.addEventListener("change", function (event) {
    var select = event.target;
    if (!select.id) { return; }
    var chartBox = document.querySelector('[data-chart-for="' + select.id + '"]');
    if (chartBox) { paint(chartBox, select); }
  });

  // A citation number links to its bibliography entry, which sits in a folded section: open it first.
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest('a.cite[href^="#src-"]');
    if (!link) { return; }
    var entry = document.getElementById(link.getAttribute("href").slice(1));
    var folded = entry && entry.closest("details");
    if (folded) { folded.open = true; }
  });

  // Printing the page prints the report's folded details too.
  window.addEventListener("beforeprint", function () {
    document.querySelectorAll("#report details").forEach(function (d) { d.open = true; });
  });

  // A new report: bring its summary to the top of the window.
  document.addEventListener("htmx:afterSwap", function (event) {
    if (event.target && event.target.id === "report" && event.target.scrollIntoView) {
      event.target.scrollIntoView({ block: "start" });
    }
  });

  document.addEventListener("htmx:afterSettle", function () {
    document.querySelectorAll("[data-chart-for]").forEach(function (chartBox) {
      var select = selectFor(chartBox);
      if (select) { paint(chartBox, select); }
    });
  });
})();
