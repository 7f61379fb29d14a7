"""Streaming repair of whole videos: chunks with overlap, compositing, methods."""
