// Progressive refresh: the page works without this; with it, <main> is re-fetched every few
// seconds and swapped in place, so a status change shows up without reloading the page.
(function () {
  "use strict";
  var main = document.getElementById("live");
  var stamp = document.getElementById("updated");
  if (!main || !window.fetch) return;
  var every = Math.max(2, parseInt(main.getAttribute("data-refresh") || "15", 10)) * 1000;
  function refresh() {
    if (document.hidden) return;
    var open = Array.prototype.map.call(main.querySelectorAll("details[open]"), function (d) {
      return d.parentElement && d.parentElement.id;
    });
    fetch(window.location.pathname, { headers: { "X-Sorawatch-Partial": "1" }, cache: "no-store" })
      .then(function (r) {
        if (!r.ok) throw new Error("HTTP " + r.status);
        return r.text();
      })
      .then(function (html) {
        main.innerHTML = html;
        open.forEach(function (id) {
          var d = id && document.querySelector("#" + id + " details");
          if (d) d.open = true;
        });
        stamp.textContent = "updated " + new Date().toISOString().slice(0, 19).replace("T", " ") + " UTC";
        stamp.classList.remove("stale");
      })
      .catch(function (e) {
        stamp.textContent = "could not refresh (" + e.message + "), retrying";
        stamp.classList.add("stale");
      });
  }
  setInterval(refresh, every);
  document.addEventListener("visibilitychange", refresh);
})();

// Day-by-day hover for the overview's compact bars: the days come from the API on first hover.
(function () {
  "use strict";
  var tip = null, cache = {};
  function pct(u) { return u === null ? "no data" : (u * 100).toFixed(2) + "% uptime"; }
  function show(svg, ev) {
    tip = document.getElementById("tip");
    if (!tip) return;
    var id = svg.getAttribute("data-channel"), n = parseInt(svg.getAttribute("data-days"), 10);
    var box = svg.getBoundingClientRect();
    var i = Math.min(n - 1, Math.max(0, Math.floor((ev.clientX - box.left) / box.width * n)));
    var days = cache[id];
    if (!days) {
      cache[id] = [];
      fetch("/api/v1/channels/" + encodeURIComponent(id) + "/uptime")
        .then(function (r) { return r.json(); })
        .then(function (d) { cache[id] = d.days; });
      return;
    }
    var d = days[i];
    if (!d) return;
    var text = d.day + ": " + pct(d.uptime);
    if (d.worst !== "operational" && d.worst !== "unknown") text += ", worst " + d.worst;
    if (d.incidents.length) text += " · " + d.incidents.length + " incident(s): " + d.incidents.join("; ");
    tip.textContent = text;
    tip.hidden = false;
    tip.style.left = Math.min(ev.pageX + 12, document.documentElement.scrollWidth - 320) + "px";
    tip.style.top = ev.pageY + 16 + "px";
  }
  document.addEventListener("mousemove", function (ev) {
    var svg = ev.target && ev.target.closest && ev.target.closest("svg.bars[data-channel]");
    if (svg) show(svg, ev);
    else if (tip) tip.hidden = true;
  });
  // a refresh of the page's data drops the cached days
  setInterval(function () { cache = {}; }, 60000);
})();
