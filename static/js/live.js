// Live partials (an element with data-live and hx-get, swapped on the "live-refresh" event).
// With data-live-events the page listens to the server's Server-Sent Events and fetches the partial
// when the version moves. While no stream is open and alive (no EventSource, a proxy that buffers, a
// phone that slept or lost the network) it polls every data-live-poll ms instead: it asks the version
// alone (data-live-version, sending the one the copy shown names: 304 while nothing changed) and fetches
// the partial once it moved; a partial without a version URL is polled itself, with the ETag of the copy
// it shows (304 without rendering, never swapped). On waking, going back online or reconnecting, it asks
// for the partial at once, so it catches up.
(function () {
  "use strict";
  var etags = {};    // hx-get URL -> ETag of the copy shown
  var polled = {};   // hx-get URL -> when it was last asked for
  var streams = {};  // events URL -> {source, alive}
  var STALE_MS = 35000;  // the server sends a ping every 15 s

  function live() { return document.querySelectorAll("[data-live]"); }
  function ask(el) {
    polled[el.getAttribute("hx-get")] = Date.now();
    if (window.htmx) { window.htmx.trigger(el, "live-refresh"); }
  }
  // The version alone (the same for every viewer, nothing rendered); the partial only when it moved.
  function askVersion(el) {
    var url = el.getAttribute("data-live-version");
    polled[el.getAttribute("hx-get")] = Date.now();
    var headers = {};
    var shown = el.getAttribute("data-live-version-etag");
    if (shown) { headers["If-None-Match"] = shown; }
    fetch(url, {headers: headers, cache: "no-store", credentials: "same-origin"}).then(function (reply) {
      if (reply.status === 200 && document.body.contains(el)) { ask(el); }
    }).catch(function () { /* offline: the next tick asks again */ });
  }
  function askAll(eventsUrl) {
    live().forEach(function (el) {
      if (!eventsUrl || el.getAttribute("data-live-events") === eventsUrl) { ask(el); }
    });
  }
  function healthy(url) {
    var s = url && streams[url];
    return !!s && s.source.readyState === 1 && Date.now() - s.alive < STALE_MS;
  }
  function connect(url) {
    var old = streams[url];
    if (old) { old.source.close(); }
    var s = {source: new EventSource(url), alive: Date.now(), opened: false, failed: 0};
    streams[url] = s;
    function alive() { s.alive = Date.now(); }
    s.source.addEventListener("open", function () { s.opened = true; alive(); askAll(url); });
    // A stream refused from the start (a server without streams answers 204, a proxy that blocks them):
    // poll, and try again only a minute later.
    s.source.addEventListener("error", function () {
      if (!s.opened) { s.source.close(); s.failed = Date.now(); }
    });
    s.source.addEventListener("ping", alive);
    s.source.addEventListener("version", function () { alive(); askAll(url); });
    s.source.addEventListener("end", function () { s.source.close(); askAll(url); });
  }
  function tick() {
    live().forEach(function (el) {
      var url = el.getAttribute("data-live-events");
      if (url && window.EventSource) {
        var s = streams[url];
        // A closed stream, or one silent past its heartbeat, is opened again (with Last-Event-ID when
        // the browser reconnects by itself; from scratch here, which sends the current version).
        var resting = s && s.failed && Date.now() - s.failed < 60000;
        if (!resting && (!s || s.source.readyState === 2 || Date.now() - s.alive >= STALE_MS)) { connect(url); }
      }
      if (healthy(url)) { return; }
      var every = Number(el.getAttribute("data-live-poll") || 2000);
      if (Date.now() - (polled[el.getAttribute("hx-get")] || 0) >= every) {
        if (el.hasAttribute("data-live-version") && window.fetch) { askVersion(el); } else { ask(el); }
      }
    });
  }

  var configured = false;
  document.addEventListener("htmx:configRequest", function (e) {
    var el = e.detail.elt;
    if (!el.hasAttribute || !el.hasAttribute("data-live")) { return; }
    if (!configured) {  // a 304 keeps what is shown (the countdown keeps ticking)
      window.htmx.config.responseHandling.unshift({code: "304", swap: false});
      configured = true;
    }
    // The copy shown names its own ETag (data-live-etag, also on the full page, so that the first refresh
    // after the page loads is a 304 too); else the last one a refresh received.
    var tag = el.getAttribute("data-live-etag") || etags[el.getAttribute("hx-get")];
    if (tag) { e.detail.headers["If-None-Match"] = tag; }
  });
  // Before the swap: the element is still in the page, so the event reaches the document.
  document.addEventListener("htmx:beforeSwap", function (e) {
    var el = e.detail.elt, xhr = e.detail.xhr;
    if (!el.hasAttribute || !el.hasAttribute("data-live") || !xhr) { return; }
    if (xhr.status === 200 && xhr.getResponseHeader("ETag")) {
      etags[el.getAttribute("hx-get")] = xhr.getResponseHeader("ETag");
    }
  });
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible") { askAll(null); tick(); }
  });
  window.addEventListener("online", function () { askAll(null); tick(); });
  document.addEventListener("DOMContentLoaded", tick);
  setInterval(tick, 500);
})();
