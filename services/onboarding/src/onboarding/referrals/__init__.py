"""A partner bank's view of the businesses it referred and their funds (capital-like debt)."""
