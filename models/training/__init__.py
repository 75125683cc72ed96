"""Building the planner's training corpus and adapter (offline tools; not imported at run time)."""
