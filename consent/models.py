"""Marketing consent."""
