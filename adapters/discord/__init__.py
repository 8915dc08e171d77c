"""The Discord adapter (discord.py): gateway events and interactions in,
rendered replies out. ``serve.serve_discord`` is the entry point."""
