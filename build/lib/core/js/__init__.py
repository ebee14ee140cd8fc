"""Faithful ports of JavaScript behaviour: values, regular expressions, TraceKit 6.13.1."""
