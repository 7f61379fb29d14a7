"""The SeedVR repair pipeline and its hierarchical scheduler."""
