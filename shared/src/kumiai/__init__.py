"""Common library of the Kumiai services: infrastructure and cross-service contracts."""
