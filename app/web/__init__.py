"""HTTP: blueprints for the API, the provider webhooks and the pages."""
