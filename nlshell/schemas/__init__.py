"""JSON Schemas shipped with nlshell (data files)."""
