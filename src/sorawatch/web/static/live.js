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
