"""The filter engine and its rules: identify, event filtering, inbound filters, Dedupe
(docs/behaviour.md)."""
