// Starts Swagger UI or Redoc (vendored by drf-spectacular-sidecar) on the API's schema.
(function () {
  "use strict";
  var root = document.getElementById("api-docs");
  if (!root) { return; }
  var url = root.dataset.schemaUrl;
  if (root.dataset.kind === "redoc") {
    window.Redoc.init(url, { hideDownloadButton: false, expandResponses: "200,201" }, root);
    return;
  }
  window.ui = window.SwaggerUIBundle({
    url: url,
    dom_id: "#api-docs",
    deepLinking: true,
    presets: [window.SwaggerUIBundle.presets.apis, window.SwaggerUIStandalonePreset],
    plugins: [window.SwaggerUIBundle.plugins.DownloadUrl],
    layout: "BaseLayout",
    persistAuthorization: false
  });
}());
