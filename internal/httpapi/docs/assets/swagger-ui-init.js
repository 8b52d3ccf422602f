// Starts Swagger UI on #swagger-ui with the document that its data-url names. It is a file and
// not an inline script so that the page's Content-Security-Policy can forbid inline scripts.
(function () {
	"use strict";
	var root = document.getElementById("swagger-ui");
	window.ui = SwaggerUIBundle({
		domNode: root,
		url: root.dataset.url,
		presets: [SwaggerUIBundle.presets.apis],
		layout: "BaseLayout",
		deepLinking: true,
		docExpansion: "list",
		displayRequestDuration: true,
		// By default Swagger UI sends the document's URL to validator.swagger.io: a third party,
		// and out of reach offline.
		validatorUrl: null,
	});
})();
