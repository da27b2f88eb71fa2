"""newsflow.dedup: the dedup stage (articles.raw -> articles.unique / articles.duplicates)."""
