// UCC view beacon. For every <video data-video-id data-play-token
// data-min-watch> on the page it adds up real playback time (time that
// advanced while playing, not seeking, never faster than the wall clock)
// and reports the view once that reaches data-min-watch seconds. Then it
// updates every [data-view-count] element with the displayed count.
// Load it with <script src="/static/js/app.js" defer> first (window.ucc.fetch
// sends the CSRF token), then <script src="/static/js/beacon.js" defer>.
(function () {
  "use strict";

  function showCount(n) {
    if (typeof n !== "number" || !window.ucc) return;
    document.querySelectorAll("[data-view-count]").forEach(function (el) {
      el.setAttribute("data-view-count", String(n));
      // data-view-words: the element shows the count in words ("1.2K views",
      // "조회수 1.2만회"), not just the number.
      el.textContent = el.hasAttribute("data-view-words") ? window.ucc.plural("count.views", n, window.ucc.compact(n)) : window.ucc.compact(n);
    });
  }

  function send(url, opts) {
    var f = window.ucc && window.ucc.fetch ? window.ucc.fetch : function (u, o) {
      o.credentials = "same-origin";
      return fetch(u, o);
    };
    return f(url, opts);
  }

  function refreshCount(id) {
    return send("/api/v1/videos/" + encodeURIComponent(id) + "/views", { method: "GET" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (j) { if (j) showCount(j.views); })
      .catch(function () {});
  }

  function setup(video) {
    var id = video.getAttribute("data-video-id");
    var token = video.getAttribute("data-play-token");
    var min = parseFloat(video.getAttribute("data-min-watch"));
    if (!id || !token) return;
    if (!(min >= 0)) min = 30;

    var played = false, watched = 0, lastPos = null, lastWall = 0, seeking = false, state = "watching", tries = 0;

    function report() {
      state = "sending";
      send("/api/v1/videos/" + encodeURIComponent(id) + "/views", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ play_token: token })
      }).then(function (r) {
        if (r.status === 503 || r.status === 429 || r.status >= 500) throw new Error("retry");
        state = "done";
        return refreshCount(id);
      }).catch(function () {
        // The server was unreachable or busy: reporting the same token
        // again is safe (it never counts twice), so retry a few times.
        if (++tries < 5) {
          state = "waiting";
          setTimeout(report, 2000 * tries);
        } else {
          state = "done";
        }
      });
    }

    function sample() {
      var now = performance.now();
      var pos = video.currentTime;
      if (lastPos !== null && !seeking && !video.paused && !video.ended) {
        var d = pos - lastPos;
        var wall = (now - lastWall) / 1000;
        // Count forward progress only, at most what the wall clock allows
        // (faster playback rates do not shorten the minimum watch time).
        if (d > 0 && d < 5) { watched += Math.min(d, wall); played = true; }
      }
      lastPos = pos;
      lastWall = now;
      if (state === "watching" && played && watched >= min) report();
    }

    video.addEventListener("timeupdate", sample);
    video.addEventListener("playing", function () { lastPos = video.currentTime; lastWall = performance.now(); });
    video.addEventListener("seeking", function () { seeking = true; });
    video.addEventListener("seeked", function () { seeking = false; lastPos = video.currentTime; lastWall = performance.now(); });
    video.addEventListener("pause", function () { lastPos = null; });
  }

  function init() {
    document.querySelectorAll("video[data-video-id][data-play-token]").forEach(setup);
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
