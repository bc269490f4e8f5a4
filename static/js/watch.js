// Watch page: quality switching that keeps the playback position, and
// like/subscribe buttons that update in place. Every control also works as
// a plain form without this file.
(function () {
  "use strict";
  var video = document.getElementById("player");
  var quality = document.getElementById("quality");
  if (video && quality) {
    var submit = quality.form && quality.form.querySelector("button[type=submit]");
    if (submit) submit.hidden = true;
    quality.addEventListener("change", function () {
      var opt = quality.options[quality.selectedIndex];
      var src = opt && opt.getAttribute("data-src");
      if (!src) return;
      var t = video.currentTime, paused = video.paused, rate = video.playbackRate;
      video.src = src;
      video.load();
      video.addEventListener("loadedmetadata", function once() {
        video.removeEventListener("loadedmetadata", once);
        try { video.currentTime = t; } catch (e) { /* not seekable yet */ }
        video.playbackRate = rate;
        if (!paused) video.play().catch(function () {});
      });
      try { localStorage.setItem("ucc.quality", opt.value); } catch (e) {}
    });
  }

  // Likes: PUT /api/v1/videos/{id}/like, then show the new counts.
  var reactions = document.querySelector("form.reactions[data-video-id]");
  if (reactions && window.ucc) {
    reactions.addEventListener("submit", function (ev) {
      var btn = ev.submitter;
      if (!btn || !btn.value) return;
      ev.preventDefault();
      var id = reactions.getAttribute("data-video-id");
      window.ucc.fetch("/api/v1/videos/" + encodeURIComponent(id) + "/like", {
        method: "PUT",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ value: btn.value })
      }).then(function (r) { return r.ok ? r.json() : Promise.reject(r); }).then(function (st) {
        reactions.querySelector("[data-likes]").textContent = st.likes;
        reactions.querySelector("[data-dislikes]").textContent = st.dislikes;
        ["like", "dislike"].forEach(function (kind) {
          var b = reactions.querySelector('[data-reaction="' + kind + '"]');
          var on = st.value === kind;
          b.setAttribute("aria-pressed", on ? "true" : "false");
          b.value = on ? "none" : kind;
        });
      }).catch(function () { reactions.submit(); });
    });
  }

  // Subscribe: PUT or DELETE /api/v1/channels/{handle}/subscription.
  document.querySelectorAll("form.subscribe[data-channel-handle]").forEach(function (form) {
    form.addEventListener("submit", function (ev) {
      if (!window.ucc) return;
      ev.preventDefault();
      var action = form.querySelector('input[name="action"]');
      var on = action.value === "subscribe";
      window.ucc.fetch("/api/v1/channels/" + encodeURIComponent(form.getAttribute("data-channel-handle")) + "/subscription", {
        method: on ? "PUT" : "DELETE"
      }).then(function (r) { return r.ok ? r.json() : Promise.reject(r); }).then(function (st) {
        var btn = form.querySelector("button");
        action.value = st.subscribed ? "unsubscribe" : "subscribe";
        btn.textContent = st.subscribed ? "Subscribed" : "Subscribe";
        btn.setAttribute("aria-pressed", st.subscribed ? "true" : "false");
        btn.classList.toggle("secondary", st.subscribed);
        document.querySelectorAll("[data-subscriber-count]").forEach(function (el) {
          el.setAttribute("data-subscriber-count", st.subscriber_count);
          el.textContent = st.subscriber_count;
        });
      }).catch(function () { form.submit(); });
    });
  });
})();
