"""Building Sentry events: error fields, common fields, ids, timestamps, breadcrumbs
(docs/behaviour.md)."""
