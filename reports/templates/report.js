(function () {
  "use strict";
  var form = document.getElementById("filters");
  if (!form) { return; }
  var views = { rule: document.getElementById("by-rule"), file: document.getElementById("by-file") };
  var shown = document.getElementById("shown-count");
  var status = document.getElementById("filter-status");
  var none = document.getElementById("no-match");
  var all = document.querySelectorAll(".finding");
  var total = views.rule.querySelectorAll(".finding").length;
  var texts = new Map();
  all.forEach(function (el) {
    texts.set(el, (el.textContent + " " + el.dataset.rule + " " + el.dataset.cat + " " + el.dataset.path)
      .toLowerCase().replace(/\s+/g, " "));
  });
  form.hidden = false;

  function state() {
    var sev = Array.prototype.filter.call(form.elements.severity, function (c) { return c.checked; })
      .map(function (c) { return c.value; });
    return {
      severity: sev, category: form.elements.category.value, path: form.elements.path.value.trim(),
      q: form.elements.q.value.trim().toLowerCase(), group: form.elements.group.value || "rule"
    };
  }

  function matches(el, s) {
    if (s.severity.indexOf(el.dataset.sev) < 0) { return false; }
    if (s.category && el.dataset.cat !== s.category) { return false; }
    if (s.path && el.dataset.path.toLowerCase().indexOf(s.path.toLowerCase()) < 0) { return false; }
    if (s.q) {
      var t = texts.get(el);
      var words = s.q.split(/\s+/);
      for (var i = 0; i < words.length; i++) { if (t.indexOf(words[i]) < 0) { return false; } }
    }
    return true;
  }

  function apply(s, writeHash) {
    var count = 0;
    Object.keys(views).forEach(function (k) { views[k].hidden = k !== s.group; });
    var view = views[s.group];
    view.querySelectorAll("details.group").forEach(function (g) {
      var n = 0;
      g.querySelectorAll(".finding").forEach(function (el) {
        var ok = matches(el, s);
        el.hidden = !ok;
        if (ok) { n++; }
      });
      g.hidden = n === 0;
      var c = g.querySelector(".count");
      if (c) { c.textContent = n === +c.dataset.total ? String(n) : n + " of " + c.dataset.total; }
      count += n;
    });
    var narrowed = s.severity.length < 3 || s.category || s.path || s.q;
    shown.textContent = "(" + (narrowed ? count + " of " + total : total) + ")";
    status.textContent = narrowed ? "Showing " + count + " of " + total + " findings." : "Showing all " + total + " findings.";
    none.hidden = count > 0;
    if (writeHash) {
      var p = [];
      if (s.severity.length < 3) { p.push("severity=" + s.severity.join(",")); }
      if (s.category) { p.push("category=" + encodeURIComponent(s.category)); }
      if (s.path) { p.push("path=" + encodeURIComponent(s.path)); }
      if (s.q) { p.push("q=" + encodeURIComponent(s.q)); }
      if (s.group !== "rule") { p.push("group=" + s.group); }
      var h = p.length ? "#" + p.join("&") : " ";
      try { history.replaceState(null, "", h === " " ? location.pathname + location.search : h); } catch (e) { /* file: URLs in some browsers */ }
    }
    return count;
  }

  function fromHash() {
    var h = location.hash.replace(/^#/, "");
    if (!h) { return; }
    h.split("&").forEach(function (kv) {
      var i = kv.indexOf("=");
      if (i < 0) { return; }
      var k = kv.slice(0, i), v = decodeURIComponent(kv.slice(i + 1));
      if (k === "severity") {
        var want = v.split(",");
        Array.prototype.forEach.call(form.elements.severity, function (c) { c.checked = want.indexOf(c.value) >= 0; });
      } else if (k === "category" || k === "path" || k === "q") {
        form.elements[k].value = v;
      } else if (k === "group") {
        Array.prototype.forEach.call(form.elements.group, function (r) { r.checked = r.value === v; });
      }
    });
  }

  var timer = null;
  form.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(function () { apply(state(), true); }, 60);
  });
  form.addEventListener("change", function () { apply(state(), true); });
  form.addEventListener("submit", function (e) { e.preventDefault(); });
  form.addEventListener("reset", function () {
    setTimeout(function () {
      Array.prototype.forEach.call(form.elements.severity, function (c) { c.checked = true; });
      apply(state(), true);
    }, 0);
  });
  window.addEventListener("hashchange", function () { fromHash(); apply(state(), false); });
  fromHash();
  window.cfcompatFilter = { apply: function () { return apply(state(), true); }, state: state };
  apply(state(), false);
}());
