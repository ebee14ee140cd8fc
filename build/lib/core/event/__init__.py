"""Building Sentry events: error fields, common fields, ids, timestamps, breadcrumbs (SPEC §5)."""
