// Studio: refresh the progress of processing videos until they finish.
(function () {
  "use strict";
  function rows() { return document.querySelectorAll('tr[data-status="processing"], tr[data-status="uploading"]'); }
  function poll() {
    if (rows().length === 0) { return; }
    window.ucc.fetch("/api/v1/me/videos", { headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
      .then(function (body) {
        var changed = false;
        (body.videos || []).forEach(function (v) {
          var tr = document.querySelector('tr[data-video="' + v.id + '"]');
          if (!tr) { return; }
          if (v.status !== tr.getAttribute("data-status")) { changed = true; return; }
          var bar = tr.querySelector("progress"), pct = tr.querySelector(".pct");
          if (bar) { bar.value = v.progress; bar.textContent = v.progress + "%"; }
          if (pct) { pct.textContent = v.progress; }
        });
        if (changed) { window.location.reload(); return; }
        setTimeout(poll, 3000);
      })
      .catch(function () { setTimeout(poll, 10000); });
  }
  document.addEventListener("DOMContentLoaded", function () { setTimeout(poll, 2000); });
})();
