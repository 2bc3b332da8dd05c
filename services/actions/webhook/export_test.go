package webhook

import "net/http"

// SetTransport replaces the worker's HTTP transport, so a test can act
// between a receiver's answer and the worker recording it.
func (w *Worker) SetTransport(rt http.RoundTripper) { w.http.SetTransport(rt) }
