"""newsflow.language: the language stage (articles.unique -> articles.language)."""
