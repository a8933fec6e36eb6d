// Load the vendored htmx when the CDN copy did not arrive (blocked or slow community networks).
// document.write keeps the script parser-inserted, so htmx still initialises on DOMContentLoaded.
(function () {
  if (window.htmx) { return; }
  var src = document.currentScript && document.currentScript.getAttribute("data-src");
  if (src) { document.write('<script src="' + src + '"><\/script>'); }
})();
