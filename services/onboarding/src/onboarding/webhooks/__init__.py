"""Partners' webhooks: endpoints, signed deliveries in order per subject, retries, the log."""
