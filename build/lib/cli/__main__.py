"""`python -m cli` runs the rudder-sentry command line."""

from cli.app import main

main()
