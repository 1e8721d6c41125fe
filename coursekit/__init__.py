"""The course toolkit: manifest, starters, the checker CLI and shared pytest fixtures."""
