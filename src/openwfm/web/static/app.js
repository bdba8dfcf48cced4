// openwfm web pages: the few behaviours htmx does not cover (no framework).
// The schedule timeline: a click on a shift opens its editor; dragging a shift moves it,
// dragging its right edge resizes it (15-minute steps); on release the rule checker and the
// coverage effect are asked for (POST .../check, nothing saved until "Save to the draft").
"use strict";

(function () {
  const STEP_MIN = 15;

  function csrfHeaders() {
    try {
      return JSON.parse(document.body.getAttribute("hx-headers") || "{}");
    } catch (e) {
      return {};
    }
  }

  function timelineOf(el) {
    return el.closest(".timeline");
  }

  function pageTz() {
    const sel = document.querySelector("#filters select[name=tz]");
    return sel ? sel.value : "UTC";
  }

  function openEditor(shift) {
    const tl = timelineOf(shift);
    const agent = shift.closest(".tl-row").dataset.agent;
    const url = "/schedule/" + tl.dataset.schedule + "/edit?agent=" + encodeURIComponent(agent) +
      "&start=" + encodeURIComponent(shift.dataset.start) + "&tz=" + encodeURIComponent(pageTz());
    document.querySelectorAll(".shift.selected").forEach((s) => s.classList.remove("selected"));
    shift.classList.add("selected");
    htmx.ajax("GET", url, { target: "#editor", headers: csrfHeaders() });
  }

  function checkMoved(shift, startMs, endMs) {
    const tl = timelineOf(shift);
    const agent = shift.closest(".tl-row").dataset.agent;
    document.querySelectorAll(".shift.selected").forEach((s) => s.classList.remove("selected"));
    shift.classList.add("selected");
    htmx.ajax("POST", "/schedule/" + tl.dataset.schedule + "/check", {
      target: "#editor",
      headers: csrfHeaders(),
      values: {
        agent: agent,
        orig_start: shift.dataset.start,
        new_start: new Date(startMs).toISOString(),
        new_end: new Date(endMs).toISOString(),
        tz: pageTz(),
      },
    });
  }

  let drag = null;

  document.addEventListener("pointerdown", (ev) => {
    const shift = ev.target.closest(".timeline button.shift");
    if (!shift || ev.button !== 0) return;
    const tl = timelineOf(shift);
    const lane = shift.parentElement;
    const p0 = Date.parse(tl.dataset.periodStart);
    const p1 = Date.parse(tl.dataset.periodEnd);
    const rect = shift.getBoundingClientRect();
    drag = {
      shift: shift,
      x0: ev.clientX,
      resize: ev.clientX > rect.right - 8,
      msPerPx: (p1 - p0) / lane.getBoundingClientRect().width,
      left0: parseFloat(shift.style.left),
      width0: parseFloat(shift.style.width),
      p0: p0,
      p1: p1,
      steps: 0,
    };
    shift.setPointerCapture(ev.pointerId);
  });

  document.addEventListener("pointermove", (ev) => {
    if (!drag) return;
    const stepMs = STEP_MIN * 60000;
    drag.steps = Math.round(((ev.clientX - drag.x0) * drag.msPerPx) / stepMs);
    const pct = (100 * drag.steps * stepMs) / (drag.p1 - drag.p0);
    if (drag.resize) {
      drag.shift.style.width = Math.max(0.2, drag.width0 + pct) + "%";
    } else {
      drag.shift.style.left = drag.left0 + pct + "%";
    }
  });

  document.addEventListener("pointerup", (ev) => {
    if (!drag) return;
    const d = drag;
    drag = null;
    if (d.steps === 0) {
      openEditor(d.shift);
      return;
    }
    const delta = d.steps * STEP_MIN * 60000;
    const start = Date.parse(d.shift.dataset.start) + (d.resize ? 0 : delta);
    const end = Date.parse(d.shift.dataset.end) + delta;
    checkMoved(d.shift, start, end);
  });

  // keyboard: Enter or Space on a focused shift opens its editor
  document.addEventListener("keydown", (ev) => {
    const shift = ev.target.closest && ev.target.closest(".timeline button.shift");
    if (shift && (ev.key === "Enter" || ev.key === " ")) {
      ev.preventDefault();
      openEditor(shift);
    }
  });
})();

// charts: a .chart element carries its plotly figure as JSON (plotly.js served by openwfm)
document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll(".chart[data-figure]").forEach((el) => {
    if (typeof Plotly === "undefined") return;
    const fig = JSON.parse(el.dataset.figure);
    Plotly.newPlot(el, fig.data, fig.layout, { displaylogo: false, responsive: true });
  });
});

// live pages (htmx's SSE extension): the stream's state on the element, for the "live" badge
document.addEventListener("htmx:sseOpen", (ev) => ev.target.setAttribute("data-sse", "open"));
document.addEventListener("htmx:sseError", (ev) => ev.target.setAttribute("data-sse", "lost"));
