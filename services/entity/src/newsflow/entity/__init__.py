"""newsflow.entity: the entity stage (articles.language -> articles.enriched)."""
