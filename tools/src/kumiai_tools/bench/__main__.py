"""``python -m kumiai_tools.bench`` (what ``make bench`` runs)."""

from kumiai_tools.bench import main

main()
