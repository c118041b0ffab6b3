package main

import "net/http"

// routesLive registers the websocket page.
func (a *app) routesLive(mux *http.ServeMux) {}
