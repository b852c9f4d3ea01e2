"""Use cases: the work behind the routes and the CLI."""
