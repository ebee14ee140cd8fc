"""rudder-sentry command line: option parsing, progress and rendering; rules live in core/."""
