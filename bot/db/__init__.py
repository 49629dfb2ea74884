"""Database: models, engine and session factory, migrations."""
