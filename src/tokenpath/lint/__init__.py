"""Lint: Kubernetes manifests -> routes with effective streaming settings -> findings."""
