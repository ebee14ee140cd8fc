"""The filter engine and its rules: identify, event filtering, inbound filters (SPEC §5, §6)."""
