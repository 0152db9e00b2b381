"""Alerts: saved searches that notify a webhook of services new, changed or gone (docs/alerts.md)."""
