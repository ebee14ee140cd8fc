"""Reading dumps: which files, how they open, and the records their lines hold (docs/input.md)."""
