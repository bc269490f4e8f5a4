// UCC upload page: a small tus 1.0 client (creation, core, termination).
// The file is sent in CHUNK-sized PATCH requests made from Blob.slice, so
// memory stays flat for multi-gigabyte files. After a network error the
// client asks the server how much it holds (HEAD) and resumes from there,
// with backoff. The upload URL is remembered in localStorage by file name,
// size and modification time, so reloading the page resumes too.
(function () {
  "use strict";
  var root = document.getElementById("upload");
  if (!root) return;

  var ENDPOINT = root.dataset.endpoint;
  var MAX_BYTES = Number(root.dataset.maxBytes) || 0;
  var MAX_SIZE = root.dataset.maxSize || "";
  var CHUNK = 16 * 1024 * 1024;
  var DELAYS = [1, 2, 4, 8, 15, 30]; // seconds between retries, the last repeats
  var MAX_RETRIES = 20;

  function $(id) { return document.getElementById(id); }
  var form = $("upload-form"), input = $("file"), drop = $("dropzone"), fileName = $("file-name");
  var title = $("title"), desc = $("description"), vis = $("visibility"), startBtn = $("start");
  var box = $("progress-box"), bar = $("progress"), text = $("progress-text"), cancelBtn = $("cancel");
  var errorBox = $("error"), doneBox = $("done"), studioLink = $("studio-link");

  var file = null;
  var prefilledTitle = "";
  var job = null; // the running upload: {url, xhr, cancelled, timer}

  // ----- small helpers -----
  // msg is the catalog's message key (the page's i18n block), in the page's language.
  function msg(key, params) { return window.ucc.t(key, params); }
  // bytesWord is a count of bytes in words: "500 bytes", "500바이트".
  function bytesWord(n) { return window.ucc.plural("format.bytes", n); }
  // formatBytes is internal/i18n's Localizer.Size (internal/bytesize):
  // binary units (KiB, MiB, GiB), one decimal dropped when zero, so sizes
  // here match the server's limits.
  function formatBytes(n) {
    n = Math.floor(n);
    if (n < 1024) return bytesWord(n);
    var div = 1024, exp = 0;
    for (var m = Math.floor(n / 1024); m >= 1024; m = Math.floor(m / 1024)) { div *= 1024; exp++; }
    return (n / div).toFixed(1).replace(/\.0$/, "") + " " + "KMGTPE".charAt(exp) + "iB";
  }
  function fmtTime(sec) {
    if (!isFinite(sec) || sec < 0) return "";
    sec = Math.round(sec);
    var h = Math.floor(sec / 3600), m = Math.floor(sec / 60) % 60, s = sec % 60;
    if (h > 0) return msg("js.upload.time_hm", { H: h, M: m });
    if (m > 0) return msg("js.upload.time_ms", { M: m, S: s });
    return msg("js.upload.time_s", { S: s });
  }
  function b64(s) {
    var bytes = new TextEncoder().encode(s), bin = "";
    for (var i = 0; i < bytes.length; i++) bin += String.fromCharCode(bytes[i]);
    return btoa(bin);
  }
  function metadata(obj) {
    return Object.keys(obj).map(function (k) { return k + " " + b64(obj[k]); }).join(",");
  }
  function fingerprint(f) { return "ucc.tus:" + [f.name, f.size, f.lastModified].join(":"); }
  function store(key, val) {
    try { if (val) localStorage.setItem(key, val); else localStorage.removeItem(key); } catch (e) { /* private mode */ }
  }
  function stored(key) {
    try { return localStorage.getItem(key); } catch (e) { return null; }
  }
  function sleep(sec) {
    return new Promise(function (resolve) { job.wake = resolve; job.timer = setTimeout(resolve, sec * 1000); });
  }
  function showError(msg) {
    errorBox.textContent = msg;
    errorBox.hidden = !msg;
  }

  // UploadError carries a message meant for the creator.
  function UploadError(msg, final) { this.message = msg; this.final = !!final; }

  // request sends one tus request with XMLHttpRequest (for upload progress).
  function request(method, url, headers, body, onProgress) {
    return new Promise(function (resolve, reject) {
      var xhr = new XMLHttpRequest();
      job.xhr = xhr;
      xhr.open(method, url);
      xhr.setRequestHeader("Tus-Resumable", "1.0.0");
      if (window.ucc && window.ucc.csrf) xhr.setRequestHeader("X-CSRF-Token", window.ucc.csrf);
      Object.keys(headers || {}).forEach(function (k) { xhr.setRequestHeader(k, headers[k]); });
      if (onProgress) xhr.upload.onprogress = function (e) { onProgress(e.loaded); };
      xhr.onload = function () { job.xhr = null; resolve(xhr); };
      xhr.onerror = function () { job.xhr = null; reject({ network: true }); };
      xhr.ontimeout = xhr.onerror;
      xhr.onabort = function () { job.xhr = null; reject({ aborted: true }); };
      xhr.send(body === undefined ? null : body);
    });
  }

  // serverMessage reads the server's JSON error, or describes the status.
  function serverMessage(xhr) {
    try {
      var j = JSON.parse(xhr.responseText);
      if (j && j.error && j.error.message) return j.error.message;
    } catch (e) { /* not JSON */ }
    if (xhr.status === 401) return msg("js.upload.session_ended");
    if (xhr.status === 413) return MAX_SIZE ? msg("js.upload.too_large_limit", { Limit: MAX_SIZE }) : msg("js.upload.too_large");
    return msg("js.upload.server_status", { Status: xhr.status });
  }
  function transient(status) { return status === 0 || status === 408 || status === 423 || status === 429 || status >= 500; }

  // ----- progress -----
  var speed = { bytes: 0, time: 0, rate: 0 };
  function resetSpeed(at) { speed = { bytes: at, time: performance.now(), rate: 0 }; }
  function showProgress(done, total) {
    var pct = total > 0 ? Math.floor(done / total * 1000) / 10 : 0;
    bar.value = pct;
    bar.textContent = pct + "%";
    var now = performance.now(), dt = (now - speed.time) / 1000;
    if (dt >= 0.5) {
      var r = (done - speed.bytes) / dt;
      speed.rate = speed.rate ? speed.rate * 0.7 + r * 0.3 : r;
      speed.bytes = done;
      speed.time = now;
    }
    var parts = [pct.toFixed(1) + "%", msg("js.upload.progress_of", { Done: formatBytes(done), Total: formatBytes(total) })];
    if (speed.rate > 0) {
      parts.push(formatBytes(speed.rate) + "/s");
      var left = fmtTime((total - done) / speed.rate);
      if (left && done < total) parts.push(msg("js.upload.left", { Time: left }));
    }
    text.textContent = parts.join(" · ");
  }
  function status(msg) { text.textContent = msg; }

  // ----- the upload -----
  function head(url) {
    return request("HEAD", url).then(function (xhr) {
      if (xhr.status === 200) {
        return { offset: Number(xhr.getResponseHeader("Upload-Offset")), length: Number(xhr.getResponseHeader("Upload-Length")) };
      }
      if (xhr.status === 404 || xhr.status === 410 || xhr.status === 403) return null;
      throw transient(xhr.status) ? { network: true } : new UploadError(serverMessage(xhr), true);
    });
  }

  function create(f, meta) {
    return request("POST", ENDPOINT, { "Upload-Length": String(f.size), "Upload-Metadata": metadata(meta) }).then(function (xhr) {
      if (xhr.status !== 201) {
        throw transient(xhr.status) ? { network: true } : new UploadError(serverMessage(xhr), true);
      }
      var loc = xhr.getResponseHeader("Location");
      return new URL(loc, window.location.href).toString();
    });
  }

  async function run(f, meta) {
    var key = fingerprint(f);
    var offset = 0, url = stored(key), retries = 0;
    // Network trouble: wait, then continue; give up after MAX_RETRIES.
    async function backoff(what) {
      if (++retries > MAX_RETRIES) throw new UploadError(msg("js.upload.keeps_failing", { What: what }));
      var d = DELAYS[Math.min(retries - 1, DELAYS.length - 1)];
      status(msg("js.upload.retrying", { Seconds: d, Attempt: retries, Max: MAX_RETRIES }));
      await sleep(d);
      if (job.cancelled) throw { aborted: true };
    }
    // Find out where the server is (resuming a remembered upload, or after an error).
    async function sync() {
      for (;;) {
        try {
          var h = await head(url);
          if (!h || h.length !== f.size) return false;
          offset = h.offset;
          return true;
        } catch (e) {
          if (!e.network) throw e;
          await backoff(msg("js.upload.checking"));
        }
      }
    }
    if (url) {
      status(msg("js.upload.resuming"));
      job.url = url;
      if (!(await sync())) { url = null; store(key, null); }
    }
    while (!url) {
      try {
        url = await create(f, meta);
      } catch (e) {
        if (!e.network) throw e;
        await backoff(msg("js.upload.starting_upload"));
      }
    }
    job.url = url;
    store(key, url);
    resetSpeed(offset);
    for (;;) {
      var end = Math.min(offset + CHUNK, f.size);
      var chunk = f.slice(offset, end);
      var base = offset;
      var xhr;
      try {
        xhr = await request("PATCH", url, { "Content-Type": "application/offset+octet-stream", "Upload-Offset": String(offset) }, chunk,
          function (loaded) { showProgress(base + loaded, f.size); });
      } catch (e) {
        if (!e.network) throw e;
        await backoff(msg("js.upload.sending"));
        if (!(await sync())) throw new UploadError(msg("js.upload.gone_expired"), true);
        continue;
      }
      if (xhr.status === 204) {
        offset = Number(xhr.getResponseHeader("Upload-Offset"));
        retries = 0;
        showProgress(offset, f.size);
        if (offset >= f.size) {
          store(key, null);
          return xhr.getResponseHeader("Upload-Video-Id") || "";
        }
        continue;
      }
      if (xhr.status === 409 && /offset/.test(xhr.responseText)) {
        if (!(await sync())) throw new UploadError(msg("js.upload.gone"), true);
        continue;
      }
      if (transient(xhr.status)) {
        await backoff(serverMessage(xhr));
        if (!(await sync())) throw new UploadError(msg("js.upload.gone"), true);
        continue;
      }
      // A refusal (too large, not a video, quota, ...): the server removed the upload.
      store(key, null);
      throw new UploadError(serverMessage(xhr), true);
    }
  }

  function setBusy(busy) {
    Array.prototype.forEach.call(form.elements, function (el) { el.disabled = busy; });
    box.hidden = !busy;
  }

  function pick(f) {
    if (!f) return;
    file = f;
    showError("");
    doneBox.hidden = true;
    fileName.textContent = f.name + " — " + formatBytes(f.size);
    if (!title.value || title.value === prefilledTitle) {
      prefilledTitle = f.name.replace(/\.[^.]+$/, "").slice(0, 200);
      title.value = prefilledTitle;
    }
    if (MAX_BYTES && f.size > MAX_BYTES) showError(msg("js.upload.file_too_big", { Size: formatBytes(f.size), Limit: MAX_SIZE }));
  }

  input.addEventListener("change", function () { pick(input.files[0]); });
  ["dragenter", "dragover"].forEach(function (ev) {
    drop.addEventListener(ev, function (e) { e.preventDefault(); drop.classList.add("over"); });
  });
  ["dragleave", "drop"].forEach(function (ev) {
    drop.addEventListener(ev, function (e) { e.preventDefault(); drop.classList.remove("over"); });
  });
  drop.addEventListener("drop", function (e) {
    if (e.dataTransfer && e.dataTransfer.files.length) pick(e.dataTransfer.files[0]);
  });

  form.addEventListener("submit", async function (e) {
    e.preventDefault();
    if (job) return;
    showError("");
    doneBox.hidden = true;
    if (!file) { showError(msg("js.upload.pick_first")); return; }
    if (file.size === 0) { showError(msg("js.upload.empty_file")); return; }
    if (MAX_BYTES && file.size > MAX_BYTES) { showError(msg("js.upload.file_too_big", { Size: formatBytes(file.size), Limit: MAX_SIZE })); return; }
    if (!title.value.trim()) { showError(msg("js.upload.need_title")); title.focus(); return; }
    job = { url: null, xhr: null, cancelled: false, timer: null, wake: null };
    setBusy(true);
    cancelBtn.disabled = false;
    bar.value = 0;
    status(msg("js.upload.starting"));
    try {
      var vid = await run(file, { title: title.value.trim(), description: desc.value, visibility: vis.value, filename: file.name });
      studioLink.href = "/studio" + (vid ? "#video-" + encodeURIComponent(vid) : "");
      doneBox.hidden = false;
      form.reset();
      file = null;
      prefilledTitle = "";
      fileName.textContent = msg("js.upload.another");
    } catch (err) {
      if (!(err && err.aborted)) showError(err instanceof UploadError ? err.message : msg("js.upload.failed", { Reason: err && err.message || err }));
    } finally {
      job = null;
      setBusy(false);
    }
  });

  cancelBtn.addEventListener("click", function () {
    if (!job) return;
    var j = job;
    j.cancelled = true;
    clearTimeout(j.timer);
    if (j.wake) j.wake();
    if (j.xhr) j.xhr.abort();
    if (file) store(fingerprint(file), null);
    if (j.url) {
      var x = new XMLHttpRequest();
      x.open("DELETE", j.url);
      x.setRequestHeader("Tus-Resumable", "1.0.0");
      if (window.ucc && window.ucc.csrf) x.setRequestHeader("X-CSRF-Token", window.ucc.csrf);
      x.send();
    }
    showError("");
    status(msg("js.upload.cancelled"));
    fileName.textContent = msg("js.upload.cancelled_note");
  });

  window.addEventListener("beforeunload", function (e) {
    if (job && !job.cancelled) { e.preventDefault(); e.returnValue = ""; }
  });
})();
