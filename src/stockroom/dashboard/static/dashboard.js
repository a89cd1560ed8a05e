// Stockroom dashboard: the one script, and every page works without it. It shows times in
// the reader's own time zone: the server writes them in UTC inside <time datetime="…">.
(function () {
  "use strict";
  var format = { year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit" };
  var times = document.querySelectorAll("time[data-local]");
  for (var i = 0; i < times.length; i++) {
    var moment = new Date(times[i].getAttribute("datetime"));
    if (!isNaN(moment.getTime())) {
      times[i].textContent = moment.toLocaleString(undefined, format);
      times[i].setAttribute("title", times[i].getAttribute("datetime") + " (UTC)");
    }
  }
  var zone = document.getElementById("time-zone");
  if (zone && window.Intl) {
    zone.textContent = "Times are in your time zone (" + Intl.DateTimeFormat().resolvedOptions().timeZone + ").";
  }
})();
