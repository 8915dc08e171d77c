"""Tables of the summaries and weekly digest area."""
