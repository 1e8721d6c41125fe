"""One consumer per module: read them in task order (echo, clock, commands, rooms, members)."""
