// /docs (Swagger UI) and /redoc (ReDoc) on /openapi.json; both libraries come from npm, served
// locally, and start here because the pages' Content-Security-Policy allows no inline script.
"use strict";
(function start() {
  if (window.SwaggerUIBundle && document.getElementById("swagger-ui")) {
    window.SwaggerUIBundle({ url: "/openapi.json", dom_id: "#swagger-ui", deepLinking: true });
  } else if (window.Redoc && document.getElementById("redoc")) {
    window.Redoc.init("/openapi.json", { disableSearch: true, hideDownloadButton: false }, document.getElementById("redoc"));
  }
})();
