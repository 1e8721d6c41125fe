"""The stock pattern: Channels' official tutorial ChatConsumer in a Django project of its own (no database, no auth)."""
