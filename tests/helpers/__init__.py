"""What several test modules share: running the page, reading it, making test data."""
