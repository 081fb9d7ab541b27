"""Liveness, readiness and Prometheus metrics for operators (no models, no pages for residents)."""
