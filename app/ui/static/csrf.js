// Sends the page's CSRF token with every htmx request (htmx 4 inherits no headers implicitly).
document.addEventListener("htmx:config:request", function (event) {
  var meta = document.querySelector('meta[name="csrf-token"]');
  if (meta && event.detail && event.detail.ctx && event.detail.ctx.request) {
    event.detail.ctx.request.headers["X-CSRF-Token"] = meta.getAttribute("content");
  }
});
