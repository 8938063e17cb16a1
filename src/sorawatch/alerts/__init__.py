"""Alerts: confirmed status changes → notices (policy) → batches (routes, grouping) → the
outbox in the store → Apprise notifiers, with retries (deliver). See docs/alerts.md."""
