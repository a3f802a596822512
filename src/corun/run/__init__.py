"""The launcher: ``corun run`` options, their sources, and the environment of managed processes."""
