// Starts Swagger UI or Redoc (vendored by drf-spectacular-sidecar) on the API's schema.
(function () {
  "use strict";
  var root = document.getElementById("api-docs");
  if (!root) { return; }
  var url = root.dataset.schemaUrl;
  if (root.dataset.kind === "redoc") {
    // Redoc's attribution shows a logo from Redocly's CDN. The docs load nothing from a
    // CDN (and the CSP refuses it), so an image from another origin gets an empty
    // source instead; Redoc hides the image when it fails to load.
    var foreign = function (value) {
      try { return new URL(String(value), document.baseURI).origin !== window.location.origin; }
      catch (e) { return false; }
    };
    var setAttribute = Element.prototype.setAttribute;
    Element.prototype.setAttribute = function (name, value) {
      if (this.tagName === "IMG" && String(name).toLowerCase() === "src" && foreign(value) &&
          String(value).indexOf("data:") !== 0) {
        value = "data:,";
      }
      return setAttribute.call(this, name, value);
    };
    var src = Object.getOwnPropertyDescriptor(HTMLImageElement.prototype, "src");
    Object.defineProperty(HTMLImageElement.prototype, "src", {
      get: src.get,
      set: function (value) {
        src.set.call(this, foreign(value) && String(value).indexOf("data:") !== 0 ? "data:," : value);
      },
      configurable: true
    });
    // hideLoading: its spinner is an image on Redocly's CDN, which the CSP (rightly) refuses.
    window.Redoc.init(url, { hideLoading: true, expandResponses: "200,201" }, root);
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
