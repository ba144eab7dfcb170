"""Probe: stream one request, stamp every socket read, turn the timeline into a verdict."""
