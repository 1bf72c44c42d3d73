"""The Backblaze B2 store's pieces: so far its dynamic provider (provider.py)."""
