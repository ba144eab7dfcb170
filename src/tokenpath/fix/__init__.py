"""Fixes: minimal text edits on the original manifests, applied atomically."""
