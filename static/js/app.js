// UCC page helpers. Pages work without this file; it only adds comfort.
(function () {
  "use strict";
  // Send the CSRF token with same-origin fetches made by page scripts.
  var meta = document.querySelector('meta[name="csrf-token"]');
  window.ucc = {
    csrf: meta ? meta.content : "",
    fetch: function (url, opts) {
      opts = opts || {};
      opts.credentials = "same-origin";
      opts.headers = Object.assign({ "X-CSRF-Token": window.ucc.csrf }, opts.headers || {});
      return fetch(url, opts);
    }
  };
  // Keep the words of a search in the header's search box on its results.
  if (window.location.pathname === "/search") {
    var box = document.getElementById("q");
    var q = new URLSearchParams(window.location.search).get("q");
    if (box && q && !box.value) box.value = q;
  }
})();
