package http

import (
	"net/http"

	"github.com/swaggest/swgui"
	"github.com/swaggest/swgui/v5emb"
)

// docsPath is where the interactive API page lives; its assets are below it.
const docsPath = "/docs"

// handleDocs serves Swagger UI at /docs, with its scripts and styles
// embedded in the binary (no CDN, so it works offline), showing the
// document at /openapi.json. The Authorize button logs in through the
// OAuth2 password flow that the document declares.
func handleDocs() http.Handler {
	return v5emb.NewHandlerWithConfig(swgui.Config{
		Title:       "accountd API",
		SwaggerJSON: "/openapi.json",
		BasePath:    docsPath + "/",
		SettingsUI: map[string]string{
			"persistAuthorization":     "true",
			"defaultModelsExpandDepth": "1",
			"tryItOutEnabled":          "true",
		},
	})
}
