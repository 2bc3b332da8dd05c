// Package deploycheck holds tests, and nothing else, that keep the
// deployment files at the repository root (compose.yaml, Dockerfile)
// honest: no Docker engine runs on our build machines, so these files are
// checked by parsing them and asserting what operators rely on.
package deploycheck
