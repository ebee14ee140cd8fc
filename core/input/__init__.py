"""Reading dumps: which files, how they open, and the records their lines hold (SPEC §3)."""
