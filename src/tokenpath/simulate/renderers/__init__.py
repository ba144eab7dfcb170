"""Pure renderers: proxy settings -> that proxy's native config text."""
