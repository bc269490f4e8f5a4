// UCC page helpers. Pages work without this file; it only adds comfort.
(function () {
  "use strict";
  // Send the CSRF token with same-origin fetches made by page scripts.
  var meta = document.querySelector('meta[name="csrf-token"]');

  // The catalog's messages for the page's scripts: the server puts the
  // ones a page needs in <script type="application/json" class="i18n">
  // blocks (data, never run: the CSP allows no inline script), in the
  // page's language, parameters written {Name}.
  var messages = {};
  document.querySelectorAll('script.i18n[type="application/json"]').forEach(function (el) {
    try { Object.assign(messages, JSON.parse(el.textContent)); } catch (e) { /* no messages */ }
  });
  var lang = document.documentElement.lang || "en";
  var rules = window.Intl && Intl.PluralRules ? new Intl.PluralRules(lang) : null;
  var grouping = window.Intl && Intl.NumberFormat ? new Intl.NumberFormat(lang) : null;

  function fill(s, params) {
    return String(s).replace(/\{(\w+)\}/g, function (m, k) { return params && k in params ? String(params[k]) : m; });
  }
  // t is the message key with params.
  function t(key, params) {
    var m = messages[key];
    if (m === undefined) return key;
    return fill(typeof m === "object" ? m.other : m, params);
  }
  // plural is the message key in its CLDR plural form for n (the
  // browser's Intl.PluralRules for the page's language); {Count} is count,
  // or n grouped when count is not given.
  function plural(key, n, count, params) {
    var m = messages[key];
    if (m === undefined) return key;
    if (typeof m === "object") m = (rules && m[rules.select(n)]) || m.other;
    return fill(m, Object.assign({ Count: count === undefined ? number(n) : count }, params || {}));
  }
  // number writes n in full, grouped: 1,234,567.
  function number(n) { return grouping ? grouping.format(n) : String(n); }
  // compact writes a count short, as internal/i18n's Localizer.Compact:
  // English 1.2K, 12K, 1.2M; Korean 1.2천, 3.4만, 123만, 1.2억 (rounded down).
  function compact(n) {
    if (n < 0) return "-" + compact(-n);
    if (lang === "ko") {
      var units = [[1e12, "조"], [1e8, "억"], [1e4, "만"], [1e3, "천"]];
      for (var i = 0; i < units.length; i++) {
        var size = units[i][0], name = units[i][1];
        if (n < size) continue;
        if (n < 10 * size) {
          var tenths = Math.floor(n * 10 / size);
          return (tenths % 10 === 0 ? String(tenths / 10) : Math.floor(tenths / 10) + "." + (tenths % 10)) + name;
        }
        return number(Math.floor(n / size)) + name;
      }
      return String(n);
    }
    function trim(s) { return s.replace(/\.0$/, ""); }
    if (n < 1000) return String(n);
    if (n < 10000) return trim((n / 1000).toFixed(1)) + "K";
    if (n < 1000000) return Math.floor(n / 1000) + "K";
    if (n < 10000000) return trim((n / 1e6).toFixed(1)) + "M";
    if (n < 1000000000) return Math.floor(n / 1e6) + "M";
    return trim((n / 1e9).toFixed(1)) + "B";
  }

  window.ucc = {
    csrf: meta ? meta.content : "",
    lang: lang,
    t: t,
    plural: plural,
    number: number,
    compact: compact,
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
