// Body chart: a click (or Enter/Space) on a region toggles it in the chart's picker of checkboxes and fires
// "change", so the same form logic (and htmx trigger) runs as when the list
// is used. Pickers get their text filter, the chart its view buttons, and an input error goes next to its
// field. Everything works without this file: the lists are plain form controls.
// Handlers are delegated from document so they keep working after htmx swaps the chart.
(function () {
  "use strict";

  function selectFor(chartBox) {
    var id = chartBox && chartBox.getAttribute("data-chart-for");
    return id ? document.getElementById(id) : null;
  }

  // The chart's list is a picker of checkboxes (templates/_picker.html).
  function chosen(list) {
    var values = {};
    list.querySelectorAll("input[type=checkbox]:checked").forEach(function (c) { values[c.value] = true; });
    return values;
  }

  function control(list, value) {
    return list.querySelector('input[type=checkbox][value="' + value + '"]');
  }

  function paint(chartBox, list) {
    var on = chosen(list);
    chartBox.querySelectorAll("[data-region]").forEach(function (g) {
      var picked = !!on[g.getAttribute("data-region")];
      g.setAttribute("aria-pressed", picked ? "true" : "false");
      g.classList.toggle("region--selected", picked);
    });
  }

  function toggle(group) {
    var chartBox = group.closest("[data-chart-for]");
    var list = selectFor(chartBox);
    if (!list) { return; }
    var item = control(list, group.getAttribute("data-region"));
    if (!item) { return; }
    item.checked = !item.checked;
    paint(chartBox, list);
    item.dispatchEvent(new Event("change", { bubbles: true }));
  }

  function paintAll() {
    document.querySelectorAll("[data-chart-for]").forEach(function (chartBox) {
      var list = selectFor(chartBox);
      if (list) { paint(chartBox, list); }
    });
  }

  // Chart views: without JavaScript both views show side by side; with it, the back view is moved under the
  // front one and the box shows one view at a time, or both stacked, each as wide as the box (about twice
  // the side-by-side size, so every region stays a finger-sized target; the legend is then in words below).
  // Geometry of render/body_chart.py: each view 200 x 480 units, 20 apart.
  var BACK_STACKED = "translate(0 500)";
  var VIEW_BOXES = { front: "0 0 200 480", back: "0 500 200 480", both: "0 0 200 980" };

  function showView(chartBox, view) {
    var svg = chartBox.querySelector("svg.body-chart");
    if (!svg || !VIEW_BOXES[view]) { return; }
    var back = svg.querySelector(".view--back");
    if (back) { back.setAttribute("transform", BACK_STACKED); }
    svg.setAttribute("viewBox", VIEW_BOXES[view]);
    svg.setAttribute("data-show", view);
    chartBox.querySelectorAll("[data-view-button]").forEach(function (b) {
      b.setAttribute("aria-pressed", b.getAttribute("data-view-button") === view ? "true" : "false");
    });
  }

  function setUpViews(root) {
    root.querySelectorAll("[data-chart-views]").forEach(function (bar) {
      if (!bar.hidden) { return; }
      bar.hidden = false;
      showView(bar.closest("[data-chart-for]"), "front");
    });
  }

  // A chart swapped in by htmx (the atlas re-shades it) keeps the view its buttons show.
  function keepViews() {
    document.querySelectorAll("[data-chart-views]:not([hidden])").forEach(function (bar) {
      var pressed = bar.querySelector('[data-view-button][aria-pressed="true"]');
      showView(bar.closest("[data-chart-for]"), pressed ? pressed.getAttribute("data-view-button") : "front");
    });
  }

  // Pickers: a text filter over the checkbox list (ticked items always stay in view).
  function fold(text) {
    return text.toLowerCase().normalize("NFD").replace(/[\u0300-\u036f]/g, "");
  }

  function filterPicker(picker, query) {
    var words = fold(query).split(/\s+/).filter(Boolean);
    var shown = 0;
    picker.querySelectorAll(".picker-group").forEach(function (group) {
      var label = group.querySelector(".picker-group-label");
      var groupText = label ? fold(label.textContent) : "";
      var any = false;
      group.querySelectorAll(".pick").forEach(function (item) {
        var text = fold(item.querySelector("label").textContent) + " " + groupText;
        var ticked = item.querySelector("input[type=checkbox]").checked;
        var match = ticked || words.every(function (w) { return text.indexOf(w) !== -1; });
        item.hidden = !match;
        if (match) { any = true; shown += 1; }
      });
      group.hidden = !any;
    });
    var none = picker.querySelector(".picker-none");
    if (none) { none.hidden = shown > 0; }
  }

  function setUpPickers(root) {
    root.querySelectorAll("[data-picker-filter][hidden]").forEach(function (input) {
      input.hidden = false;
    });
  }

  document.addEventListener("input", function (event) {
    var input = event.target;
    if (input.matches && input.matches("[data-picker-filter]")) {
      filterPicker(input.closest("[data-picker]"), input.value);
    }
  });

  // Enter in a filter box must not submit the whole form.
  document.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && event.target.matches && event.target.matches("[data-picker-filter]")) {
      event.preventDefault();
    }
  });

  // An input error is also shown in words next to its field, which is described by it and focused.
  function placeError(root) {
    document.querySelectorAll(".field-error").forEach(function (old) {
      var owner = document.querySelector('[aria-describedby~="' + old.id + '"]');
      if (owner) {
        owner.removeAttribute("aria-invalid");
        owner.setAttribute("aria-describedby",
          owner.getAttribute("aria-describedby").replace(old.id, "").trim());
        if (!owner.getAttribute("aria-describedby")) { owner.removeAttribute("aria-describedby"); }
      }
      old.remove();
    });
    var alert = root.querySelector("[role=alert][data-form-field]");
    var form = document.getElementById("assess-form");
    if (!alert || !form) { return; }
    var name = alert.getAttribute("data-form-field");
    var picker = form.querySelector('[data-picker][data-field="' + name + '"]');
    var field = picker || form.querySelector('[name="' + name + '"]');
    if (!field) { return; }
    var words = alert.querySelector("[data-words]");
    var note = document.createElement("p");
    note.className = "field-error";
    note.id = "error-" + name;
    note.textContent = words ? words.textContent : alert.textContent;
    var details = field.closest("details");
    if (details) { details.open = true; }
    if (picker) {
      picker.insertBefore(note, picker.querySelector("legend").nextSibling);
    } else {
      var label = field.closest("label");
      (label || field).insertAdjacentElement("afterend", note);
    }
    var described = field.getAttribute("aria-describedby");
    field.setAttribute("aria-describedby", (described ? described + " " : "") + note.id);
    field.setAttribute("aria-invalid", "true");
    var target = picker ? picker.querySelector("input") : field;
    if (target && target.focus) { target.focus({ preventScroll: true }); }
    (picker || label || field).scrollIntoView({ block: "center" });
  }

  // A single-choice list (the visit form's muscle per needling row): a filter box above it narrows the
  // options as one types, and a blocked or restricted muscle shows its note under the list once chosen.
  function showNote(select) {
    var note = select.getAttribute("aria-describedby");
    note = note && document.getElementById(note);
    if (!note) { return; }
    var option = select.selectedOptions[0];
    note.textContent = option && option.getAttribute("data-note") || "";
  }

  function setUpSearchableSelects(root) {
    root.querySelectorAll("select[data-searchable]:not([data-enhanced])").forEach(function (select) {
      select.setAttribute("data-enhanced", "");
      var input = document.createElement("input");
      input.type = "search";
      input.className = "select-filter";
      input.placeholder = "Type to filter";
      input.autocomplete = "off";
      input.setAttribute("aria-label", "Filter: " + (select.getAttribute("aria-label") || "list"));
      input.addEventListener("input", function () {
        var words = fold(input.value).split(/\s+/).filter(Boolean);
        Array.prototype.forEach.call(select.options, function (option) {
          var match = !option.value || option.selected ||
            words.every(function (w) { return fold(option.textContent).indexOf(w) !== -1; });
          option.hidden = !match;
        });
      });
      input.addEventListener("keydown", function (event) {
        if (event.key === "Enter") { event.preventDefault(); }
      });
      select.parentNode.insertBefore(input, select);
      showNote(select);
    });
  }

  document.addEventListener("change", function (event) {
    if (event.target.matches && event.target.matches("select[data-searchable]")) { showNote(event.target); }
  });

  function setUp() {
    setUpViews(document);
    setUpPickers(document);
    setUpSearchableSelects(document);
    paintAll();
    var report = document.getElementById("report");
    if (report) { placeError(report); }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setUp);
  } else {
    setUp();
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-view-button]");
    if (button) { showView(button.closest("[data-chart-for]"), button.getAttribute("data-view-button")); }
  });

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
    if (event.target.closest && event.target.closest("[data-picker]")) { paintAll(); }
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

  // A new report: bring its summary to the top of the window; an input error goes next to its field.
  document.addEventListener("htmx:afterSwap", function (event) {
    if (event.target && event.target.id === "report") {
      var fieldError = event.target.querySelector("[role=alert][data-form-field]");
      if (!fieldError && event.target.scrollIntoView) { event.target.scrollIntoView({ block: "start" }); }
      placeError(event.target);
    }
  });

  document.addEventListener("htmx:afterSettle", function () {
    keepViews();
    paintAll();
  });
})();
